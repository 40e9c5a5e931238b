import CLMDB
import EventLog
import Foundation
import Inventory
import ReplayKit
import Testing

/// Puts (or, with `value == nil`, deletes) one raw entry of a named database.
func putRaw(_ path: String, _ table: String, key: [UInt8], value: [UInt8]?) throws {
    try withProjectionTable(path, table) { txn, dbi in
        var k = key, v = value ?? []
        k.withUnsafeMutableBytes { kb in
            v.withUnsafeMutableBytes { vb in
                var mk = MDB_val(mv_size: kb.count, mv_data: kb.baseAddress)
                if value == nil {
                    #expect(mdb_del(txn, dbi, &mk, nil) == 0)
                } else {
                    var mv = MDB_val(mv_size: vb.count, mv_data: vb.baseAddress)
                    #expect(mdb_put(txn, dbi, &mk, &mv, 0) == 0)
                }
            }
        }
    }
}

func tenantKey(_ tenant: String, _ p: UInt64) -> [UInt8] { Array(tenant.utf8) + [0] + positionKey(p) }

/// Rewrites every `events` node key `from` (its 2-byte length 8, then the key) inside the data
/// file to `to`: the B-tree then holds a key out of order, as a damaged page would.
func rewriteKeyInFile(_ path: String, from: UInt64, to: UInt64) throws -> Int {
    var data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb")))
    let needle: [UInt8] = [8, 0] + positionKey(from)
    let replacement = positionKey(to)
    var hits = 0
    var i = 0
    while i + needle.count <= data.count {
        if data[i] == 8 && data[i + 1] == 0 && Array(data[i..<(i + needle.count)]) == needle {
            data.replaceSubrange((i + 2)..<(i + 10), with: replacement)
            hits += 1
        }
        i += 1
    }
    try Data(data).write(to: URL(fileURLWithPath: path + "/data.mdb"))
    return hits
}

@Suite struct DamageTests {
    /// A key out of B-tree order is named with its position (exit 1), never a trap, and
    /// readers refuse to hand out positions going backwards.
    @Test func keyOutOfOrderIsReported() async throws {
        let dir = TempDir()
        let head = try await makeStore(dir.store, runs: 2, items: 5)
        let victim = head.position - 3
        #expect(try rewriteKeyInFile(dir.store, from: victim, to: 5) >= 1)
        let r = try await runTool(["verify", "--store", dir.store])
        #expect(r.status == 1, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("out of order") || r.stdout.contains("appears twice"), "\(r.stdout)")
        let e = try await runTool(["export", "--store", dir.store])
        #expect(e.status == 1, "\(e.stderr)")
        #expect(e.stderr.contains("out of order"), "\(e.stderr)")
        // What was printed never goes backwards.
        let positions = e.stdout.split(separator: "\n").compactMap { line -> Int? in
            guard let r = line.range(of: #"{"position":"#) else { return nil }
            return Int(line[r.upperBound...].prefix { $0.isNumber })
        }
        #expect(positions == positions.sorted())
    }

    /// An `events` key of the wrong length and a value shorter than a chain hash.
    @Test func badLengthsAreReported() async throws {
        let dir = TempDir()
        let head = try await makeStore(dir.store, runs: 1, items: 3)
        try putRaw(dir.store, "events", key: [0, 0, 0, 0, 0, 0, 0, 4, 1], value: Array(repeating: 7, count: 40))
        try putRaw(dir.store, "events", key: positionKey(head.position - 1), value: [1, 2, 3])
        let report = try await Verifier(store: try ReplayStore.openReadOnly(dir.store)).run()
        #expect(report.status == .failed)
        #expect(report.problems.contains { $0.kind == .key && $0.position == 5 }, "\(report.problems)")
        #expect(report.problems.contains { $0.kind == .length && $0.position == head.position - 1 }, "\(report.problems)")
    }

    /// A forged tenant index entry (pointing at another tenant's event) is found entry by entry,
    /// and `export --tenant` refuses to hand that event out.
    @Test func forgedTenantIndexEntryIsFound() async throws {
        let dir = TempDir()
        try await makeStore(dir.store, runs: 2, items: 3)
        let fabrikam = try #require(try ReplayStore.openReadOnly(dir.store).tenantPositions("fabrikam", after: 0, limit: 1).first)
        try putRaw(dir.store, "tenant_events", key: tenantKey("contoso", fabrikam), value: [])
        let report = try await Verifier(store: try ReplayStore.openReadOnly(dir.store)).run()
        #expect(report.status == .failed)
        let p = try #require(report.problems.first { $0.kind == .tenantIndex })
        #expect(p.position == fabrikam)
        #expect(p.message.contains("belongs to tenant fabrikam"), "\(p.message)")
        let e = try await runTool(["export", "--store", dir.store, "--tenant", "contoso"])
        #expect(e.status == 1)
        #expect(e.stderr.contains("position \(fabrikam)"), "\(e.stderr)")
        #expect(!e.stdout.contains(#""tenant":"fabrikam""#))
    }

    /// Index entries for positions past the head (planted: no append wrote them) are reported,
    /// not skipped as if appended after the scan began.
    @Test func indexEntriesPastTheHeadAreFound() async throws {
        let dir = TempDir()
        try await makeStore(dir.store, runs: 1, items: 3)
        let head = try ReplayStore.openReadOnly(dir.store).head().position
        try putRaw(dir.store, "tenant_events", key: tenantKey("contoso", head + 3), value: [])
        try putRaw(dir.store, "event_ids", key: (0..<16).map { _ in UInt8.random(in: 0...255) }, value: positionKey(head + 9))
        let report = try await Verifier(store: try ReplayStore.openReadOnly(dir.store)).run()
        #expect(report.status == .failed)
        #expect(report.problems.contains { $0.kind == .tenantIndex && $0.position == head + 3 && $0.message.contains("past the log's head \(head)") },
                "\(report.problems)")
        #expect(report.problems.contains { $0.kind == .eventIDs && $0.position == head + 9 }, "\(report.problems)")
        let v = try await runTool(["verify", "--store", dir.store])
        #expect(v.status == 1)
        #expect(v.stderr.contains("tenant_index") || v.stdout.contains("tenant_index"), "\(v.stdout)\(v.stderr)")
    }

    /// An event missing from each index, and an id index entry naming the wrong event.
    @Test func indexEntriesComparedBothWays() async throws {
        let dir = TempDir()
        try await makeStore(dir.store, runs: 2, items: 3)
        let raws = try ReplayStore.openReadOnly(dir.store).rawEvents(from: 1, limit: 20)
        let e7 = try raws[6].decode().envelope, e9 = try raws[8].decode().envelope
        try putRaw(dir.store, "tenant_events", key: tenantKey(e7.tenant, 7), value: nil)
        try putRaw(dir.store, "event_ids", key: e9.id.bytes, value: positionKey(10))
        let report = try await Verifier(store: try ReplayStore.openReadOnly(dir.store)).run()
        #expect(report.status == .failed)
        #expect(report.problems.contains { $0.kind == .tenantIndex && $0.position == 7 && $0.message.contains("missing") }, "\(report.problems)")
        #expect(report.problems.contains { $0.kind == .eventIDs && $0.position == 10 }, "\(report.problems)")
        #expect(report.problems.contains { $0.kind == .eventIDs && $0.position == 9 && $0.message.contains("missing") }, "\(report.problems)")
    }

    /// The last events removed cleanly, with their index entries: the projections are ahead of
    /// the log, which is a failure (exit 1), not "inconclusive".
    @Test func cleanTruncationFails() async throws {
        let dir = TempDir()
        let head = try await makeStore(dir.store, runs: 2, items: 3)
        try truncateLog(dir.store, keeping: head.position - 4)
        let r = try await runTool(["verify", "--store", dir.store])
        #expect(r.status == 1, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stderr.contains("log shorter than its projections"), "\(r.stderr)")
        // Writing would reuse the removed positions: the store is not opened for writing.
        #expect(throws: EventLogError.self) { _ = try openStore(dir.store) }
        do { _ = try openStore(dir.store) } catch let e as EventLogError {
            #expect(e.code == .truncatedLog && e.message.contains("log shorter than its projections: truncated?"), "\(e)")
        }
        let w = try await runTool(["rebuild", "--store", dir.store])
        #expect(w.status == 2, "\(w.stderr)")
        #expect(w.stderr.contains("log shorter than its projections: truncated?"), "\(w.stderr)")
        #expect(try ReplayStore.openReadOnly(dir.store).head().position == head.position - 4)
    }
}

/// Deletes every event after `keeping` with its `event_ids` and `tenant_events` entries.
func truncateLog(_ path: String, keeping: UInt64) throws {
    let doomed = try ReplayStore.openReadOnly(path).rawEvents(from: keeping + 1, limit: 1 << 20).map { try $0.decode() }
    for e in doomed {
        try putRaw(path, "events", key: positionKey(e.position), value: nil)
        try putRaw(path, "event_ids", key: e.envelope.id.bytes, value: nil)
        try putRaw(path, "tenant_events", key: tenantKey(e.envelope.tenant, e.position), value: nil)
    }
}
