import CLMDB
import CanonicalJSON
import EventLog
import Foundation
import Inventory
import ReplayKit
import Testing

@Suite struct VerifyTests {
    @Test func healthyStoreVerifies() async throws {
        let dir = TempDir()
        let head = try await makeStore(dir.store)
        let store = try ReplayStore.openReadOnly(dir.store)
        let report = try await Verifier(store: store).run()
        #expect(report.status == .ok, "\(report.problems)")
        #expect(report.eventsChecked == head.position)
        #expect(report.head == head)
        #expect(report.projections.count == InventoryProjections.all.count)
        #expect(report.projections.allSatisfy { $0.equal })
        #expect(report.projections.first { $0.name == "inventory_items" }?.entries["items"] ?? 0 > 0)
    }

    /// A format-1 store (each event's JSON chained) verifies, and its replays chain as it does.
    @Test func formatOneStoreVerifiesAndReplays() async throws {
        let dir = TempDir()
        let head = try await makeStore(dir.store, formatVersion: 1)
        let store = try ReplayStore.openReadOnly(dir.store)
        #expect(store.formatVersion == 1)
        let report = try await Verifier(store: store).run()
        #expect(report.status == .ok, "\(report.problems)")
        #expect(report.eventsChecked == head.position && report.head == head)
        #expect(report.projections.allSatisfy { $0.equal })
        let replayer = try await AsOf.replay(store, through: head.position / 2)
        #expect(replayer.replayed == head.position / 2)
        #expect(replayer.scratch.store.formatVersion == 1)
    }

    @Test func flippedByteInEventIsFoundAndNamed() async throws {
        let dir = TempDir()
        try await makeStore(dir.store)
        // Flip a byte inside the JSON (after the 32-byte chain hash) of event 17.
        try flipByte(dir.store, position: 17, offset: 32 + 60)
        let report = try await Verifier(store: try ReplayStore.openReadOnly(dir.store)).run()
        #expect(report.status == .failed)
        #expect(report.firstProblem?.position == 17)
        #expect(report.firstProblem?.kind == .chain)
        // Only event 17 is damaged: one chain problem, the rest of the chain checks out.
        #expect(report.problems.filter { $0.kind == .chain }.count == 1)

        let r = try await runTool(["verify", "--store", dir.store])
        #expect(r.status == 1)
        #expect(r.stderr.contains("position 17"), "\(r.stderr)")
    }

    @Test func flippedByteInStoredChainHashIsFound() async throws {
        let dir = TempDir()
        try await makeStore(dir.store)
        try flipByte(dir.store, position: 9, offset: 3)
        let report = try await Verifier(store: try ReplayStore.openReadOnly(dir.store)).run()
        #expect(report.status == .failed)
        #expect(report.firstProblem?.position == 9)
        #expect(report.problemCount == 1, "\(report.problems)")
    }

    @Test func everyByteFlipIsFound() async throws {
        // A flipped byte anywhere in an event (hash or JSON) must be found.
        let dir = TempDir()
        try await makeStore(dir.store, tenants: ["t1"], runs: 1, items: 2)
        let length = try ReplayStore.openReadOnly(dir.store).rawEvents(from: 3, limit: 1)[0].json.count + 32
        for offset in stride(from: 0, to: length, by: max(1, length / 40)) {
            try flipByte(dir.store, position: 3, offset: offset)
            let report = try await Verifier(store: try ReplayStore.openReadOnly(dir.store)).run()
            #expect(report.status == .failed && report.firstProblem?.position == 3, "offset \(offset)")
            try flipByte(dir.store, position: 3, offset: offset)  // restore
        }
        let report = try await Verifier(store: try ReplayStore.openReadOnly(dir.store)).run()
        #expect(report.status == .ok)
    }

    @Test func gapIsFound() async throws {
        let dir = TempDir()
        try await makeStore(dir.store)
        try deleteEvent(dir.store, position: 25)
        let report = try await Verifier(store: try ReplayStore.openReadOnly(dir.store)).run()
        #expect(report.status == .failed)
        #expect(report.firstProblem?.kind == .gap)
        #expect(report.firstProblem?.position == 25)
        let r = try await runTool(["verify", "--store", dir.store, "--json"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("\"kind\":\"gap\""))
    }

    @Test func divergedProjectionIsNamedWithKey() async throws {
        let dir = TempDir()
        try await makeStore(dir.store)
        // Damage the live items projection: delete its first row.
        try withProjectionTable(dir.store, "p/inventory_items/1/items") { txn, dbi in
            var cursor: OpaquePointer?
            #expect(mdb_cursor_open(txn, dbi, &cursor) == 0)
            var k = MDB_val(), v = MDB_val()
            #expect(mdb_cursor_get(cursor, &k, &v, MDB_FIRST) == 0)
            #expect(mdb_cursor_del(cursor, 0) == 0)
            mdb_cursor_close(cursor)
        }
        let report = try await Verifier(store: try ReplayStore.openReadOnly(dir.store)).run()
        #expect(report.status == .failed)
        let p = try #require(report.firstProblem)
        #expect(p.kind == .projection)
        #expect(p.projection == "inventory_items")
        #expect(p.key?.hasPrefix("contoso") == true)
        #expect(p.message.contains("only in the rebuilt projection"))
    }
}

/// Edits a named database through the LMDB C API (the store must not be open in this process).
func withProjectionTable(_ path: String, _ name: String, _ body: (OpaquePointer, MDB_dbi) throws -> Void) throws {
    var env: OpaquePointer?
    #expect(mdb_env_create(&env) == 0)
    defer { mdb_env_close(env) }
    #expect(mdb_env_set_maxdbs(env, 256) == 0)
    #expect(mdb_env_open(env, path, 0, 0o600) == 0)
    var txn: OpaquePointer?
    #expect(mdb_txn_begin(env, nil, 0, &txn) == 0)
    var dbi: MDB_dbi = 0
    #expect(mdb_dbi_open(txn, name, UInt32(MDB_CREATE), &dbi) == 0)
    do { try body(txn!, dbi) } catch { mdb_txn_abort(txn); throw error }
    #expect(mdb_txn_commit(txn) == 0)
}
