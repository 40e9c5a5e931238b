import AtlasTesting
import CLMDB
import CanonicalJSON
import EventLog
import Foundation
import Inventory
import ReplayKit
import Testing

@Suite struct RebuildTests {
    @Test func rebuildKeepsDigests() async throws {
        let dir = TempDir()
        try await makeStore(dir.store)
        let store = try openStore(dir.store)
        let before = try ProjectionDigest.atHead(store, projections: InventoryProjections.all)
        let generations = try store.projectionStatus().map(\.generation)
        try store.rebuildSync(named: nil, progress: nil)
        let after = try ProjectionDigest.atHead(store, projections: InventoryProjections.all)
        #expect(before.head != nil && before.head == after.head)
        #expect(before.digests == after.digests)
        #expect(try store.projectionStatus().map(\.generation) == generations.map { $0 + 1 })
    }

    @Test func rebuildWithATinyMemoryLimitWritesOutOftenAndKeepsDigests() async throws {
        // A few kilobytes of rows at a time: the rebuild writes its tables out many times, in
        // chunks smaller than a run, and reads back rows it wrote out earlier (items seen again,
        // index entries replaced); the result equals the incremental projections.
        let dir = TempDir()
        try await makeStore(dir.store, runs: 8, items: 30)
        let store = try openStore(dir.store)
        let before = try ProjectionDigest.atHead(store, projections: InventoryProjections.all)
        let tiny = try store.rebuildSync(named: nil, progress: nil, chunk: 37, memoryLimit: 4_096)
        #expect(tiny.spills > 20, "\(tiny)")
        #expect(tiny.peakBytes > 4_096 && tiny.peakBytes < 16_384, "\(tiny)")
        let after = try ProjectionDigest.atHead(store, projections: InventoryProjections.all)
        #expect(before.head != nil && before.head == after.head)
        #expect(before.digests == after.digests)
        // With room for everything: nothing is written out before the end.
        let roomy = try store.rebuildSync(named: nil, progress: nil, chunk: 37)
        #expect(roomy.spills == 0)
        #expect(roomy.peakBytes > tiny.peakBytes)
        #expect(try ProjectionDigest.atHead(store, projections: InventoryProjections.all).digests == before.digests)
    }

    @Test func rebuildCommandPrintsEqualDigests() async throws {
        let dir = TempDir()
        try await makeStore(dir.store)
        let r = try await runTool(["rebuild", "--store", dir.store, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let v = try JSONParser().parse(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(v["equal"]?.boolValue == true)
        #expect(v["before"]?["digests"] == v["after"]?["digests"])
        let one = try await runTool(["rebuild", "--store", dir.store, "--projection", "sync_runs"])
        #expect(one.status == 0)
        #expect(one.stdout.contains("sync_runs: before"))
        #expect(!one.stdout.contains("inventory_items"))
        let bad = try await runTool(["rebuild", "--store", dir.store, "--projection", "nope"])
        #expect(bad.status == 2)
        let small = try await runTool(["rebuild", "--store", dir.store, "--memory-limit", "1", "--json"])
        #expect(small.status == 0, "\(small.stderr)")
        #expect(try JSONParser().parse(small.stdout.trimmingCharacters(in: .whitespacesAndNewlines))["equal"]?.boolValue == true)
        let zero = try await runTool(["rebuild", "--store", dir.store, "--memory-limit", "0"])
        #expect(zero.status == 2)
        #expect(zero.stderr.contains("--memory-limit"), "\(zero.stderr)")
    }

    @Test func interruptedRebuildIsDiscardedOnOpen() async throws {
        let dir = TempDir()
        try await makeStore(dir.store)
        let before = try ProjectionDigest.atHead(try openStore(dir.store), projections: InventoryProjections.all)
        // A dead pid: a child that has exited.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let deadPID = child.processIdentifier
        // Plant a half-done rebuild of inventory_items: generation 2 with some rows, owned by the dead pid.
        try withProjectionTable(dir.store, "p/inventory_items/2/items") { txn, dbi in
            var k: [UInt8] = Array("junk".utf8), v: [UInt8] = [1, 2, 3]
            try k.withUnsafeMutableBytes { kb in
                try v.withUnsafeMutableBytes { vb in
                    var mk = MDB_val(mv_size: kb.count, mv_data: kb.baseAddress)
                    var mv = MDB_val(mv_size: vb.count, mv_data: vb.baseAddress)
                    #expect(mdb_put(txn, dbi, &mk, &mv, 0) == 0)
                }
            }
        }
        try withProjectionTable(dir.store, "projections") { txn, dbi in
            let record = #"{"building":{"checkpoint":7,"generation":2,"pid":\#(deadPID),"version":1},"checkpoint":HEAD,"generation":1,"version":1}"#
                .replacingOccurrences(of: "HEAD", with: String(before.head!))
            var k = Array("inventory_items".utf8), v = Array(record.utf8)
            k.withUnsafeMutableBytes { kb in
                v.withUnsafeMutableBytes { vb in
                    var mk = MDB_val(mv_size: kb.count, mv_data: kb.baseAddress)
                    var mv = MDB_val(mv_size: vb.count, mv_data: vb.baseAddress)
                    #expect(mdb_put(txn, dbi, &mk, &mv, 0) == 0)
                }
            }
        }
        #expect(try databaseNames(dir.store).contains("p/inventory_items/2/items"))
        // Opening discards the abandoned generation; the active one is intact.
        do { _ = try openStore(dir.store) }
        #expect(try !databaseNames(dir.store).contains("p/inventory_items/2/items"))
        let store = try openStore(dir.store)
        let afterOpen = try ProjectionDigest.atHead(store, projections: InventoryProjections.all)
        #expect(afterOpen.digests == before.digests)
        // And the rebuild can be run again to completion.
        try store.rebuildSync(named: ["inventory_items"], progress: nil)
        let status = try #require(try store.projectionStatus().first { $0.name == "inventory_items" })
        #expect(status.generation == 2)
        #expect(try ProjectionDigest.atHead(store, projections: InventoryProjections.all).digests == before.digests)
        let report = try await Verifier(store: store).run()
        #expect(report.status == .ok)
    }
}

/// Names of the LMDB databases, through the C API (the store must not be open in this process).
func databaseNames(_ path: String) throws -> [String] {
    var names: [String] = []
    try withProjectionTable(path, "projections") { txn, _ in
        var dbi: MDB_dbi = 0
        #expect(mdb_dbi_open(txn, nil, 0, &dbi) == 0)
        var cursor: OpaquePointer?
        mdb_cursor_open(txn, dbi, &cursor)
        defer { mdb_cursor_close(cursor) }
        var k = MDB_val(), v = MDB_val()
        var op = MDB_FIRST
        while mdb_cursor_get(cursor, &k, &v, op) == 0 {
            names.append(String(decoding: UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size), as: UTF8.self))
            op = MDB_NEXT
        }
    }
    return names
}

@Suite struct AsOfTests {
    static let selection = SyntheticInventory(tenants: [], itemsPerType: 0).selection

    func answers(_ store: LMDBEventStore, tenant: String) throws -> [String] {
        let q = InventoryQueries(store: store)
        return [
            canonical(.array(try q.items(tenant: tenant).map(\.json))),
            canonical(.array(try q.items(tenant: tenant, policyType: "deviceConfiguration").map(\.json))),
            canonical(.array(try q.runs(tenant: tenant).map(\.json))),
            canonical(try q.missing(tenant: tenant, selection: Self.selection).json),
        ]
    }

    @Test func asOfMatchesLiveAnswersThenAndNow() async throws {
        let dir = TempDir()
        let store = try openStore(dir.store)
        var gen = SyntheticInventory(tenants: ["contoso", "fabrikam"], itemsPerType: 15)
        var captured: [(UInt64, [String])] = []
        for r in 0..<7 {
            let incomplete: Set<String> = r == 5 ? ["deviceConfiguration"] : []
            try await store.append(gen.nextRun(tenant: r % 3 == 2 ? "fabrikam" : "contoso", incompleteTypes: incomplete))
            captured.append((try store.head().position, try answers(store, tenant: "contoso")))
        }
        // Mid-log and at the head: the replayed answers equal what the live store said then.
        for (position, expected) in captured {
            let replayer = try await AsOf.replay(store, through: position)
            #expect(try answers(replayer.scratch.store, tenant: "contoso") == expected, "as of \(position)")
        }
        // At the head it equals the live answer now, for the other tenant too.
        let head = try store.head().position
        let atHead = try await AsOf.replay(store, through: head)
        #expect(try answers(atHead.scratch.store, tenant: "fabrikam") == (try answers(store, tenant: "fabrikam")))
        // --time: the highest position recorded at or before T.
        let third = captured[2].0
        let t = try store.rawEvents(from: third, limit: 1)[0].decode().envelope.recordedAt
        #expect(try AsOf.position(atOrBefore: t, in: store, through: head) == third)
        #expect(try AsOf.position(atOrBefore: Timestamp(millisecondsSinceEpoch: 0), in: store, through: head) == nil)

        // The command prints the same JSON as atlas would have then.
        let r = try await runTool(["as-of", "runs", "--store", dir.store, "--tenant", "contoso", "--position", String(third), "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.trimmingCharacters(in: .newlines) == captured[2].1[2])
        let rt = try await runTool(["as-of", "items", "--store", dir.store, "--tenant", "contoso", "--time", t.description, "--json"])
        #expect(rt.status == 0, "\(rt.stderr)")
        #expect(rt.stdout.trimmingCharacters(in: .newlines) == captured[2].1[0])
        let sel = canonical(Self.selection.json)
        let rm = try await runTool(["as-of", "missing", "--store", dir.store, "--tenant", "contoso", "--position", String(captured[5].0), "--selection", sel, "--json"])
        #expect(rm.status == 0, "\(rm.stderr)")
        #expect(rm.stdout.trimmingCharacters(in: .newlines) == captured[5].1[3])
    }
}
