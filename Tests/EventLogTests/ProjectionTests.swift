import CanonicalJSON
import EventLog
import Foundation
import LMDB
import Testing

@Suite struct ProjectionTests {
    /// The projection's tables computed from scratch from the raw log.
    func fromScratch(_ store: LMDBEventStore) throws -> (counts: [[UInt8]: [UInt8]], last: [[UInt8]: [UInt8]]) {
        var counts: [String: UInt64] = [:], last: [String: UInt64] = [:]
        for raw in try allRawEvents(store) {
            let e = try raw.decode()
            counts[e.envelope.tenant, default: 0] += 1
            last[e.envelope.tenant] = e.position
        }
        func table(_ d: [String: UInt64]) -> [[UInt8]: [UInt8]] {
            Dictionary(uniqueKeysWithValues: d.map { (Array($0.key.utf8), UInt64BE.bytes($0.value)) })
        }
        return (table(counts), table(last))
    }

    func expectMatchesScratch(_ store: LMDBEventStore, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let p = TenantCounts()
        let expected = try fromScratch(store)
        #expect(try dump(store, p.table("counts")) == expected.counts, sourceLocation: sourceLocation)
        #expect(try dump(store, p.table("last")) == expected.last, sourceLocation: sourceLocation)
    }

    /// The path of a store filled with ``fill(_:batches:)`` and closed again.
    func filledClosedStore() async throws -> String {
        let path = tempPath()
        do {
            let store = try openStore(path, projections: [TenantCounts()])
            try await fill(store)
        }
        waitUntilClosed(path)
        return path
    }

    func fill(_ store: LMDBEventStore, batches: Int = 20) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<4 {
                group.addTask {
                    for b in 0..<batches {
                        _ = try await store.append((0..<(b % 3 + 1)).map { makeEvent(tenant: "tenant-\(t)", n: b * 10 + $0) })
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    @Test func projectionEqualsFromScratchAndRebuildIsIdentical() async throws {
        let path = tempPath()
        let store = try openStore(path, projections: [TenantCounts()])
        try await fill(store)
        try expectMatchesScratch(store)
        let status = try #require(try store.projectionStatus().first)
        #expect(status.name == "tenant_counts")
        #expect(status.checkpoint == (try store.head().position))
        #expect(status.generation == 1)
        #expect(status.entries == ["counts": 4, "last": 4])

        let before = (try dump(store, TenantCounts().table("counts")), try dump(store, TenantCounts().table("last")))
        let progress = UnsafeTransfer<[UInt64]>([])
        try await store.rebuildProjections(named: nil) { applied, _ in progress.value.append(applied) }
        #expect(progress.value.last == (try store.head().position))
        let after = (try dump(store, TenantCounts().table("counts")), try dump(store, TenantCounts().table("last")))
        #expect(before.0 == after.0)
        #expect(before.1 == after.1)
        #expect(try store.projectionStatus().first?.generation == 2)
        // The old generation's tables are gone.
        let names = try sharedEnvironment(path).databaseNames()
        #expect(!names.contains { $0.hasPrefix("p/tenant_counts/1/") })
        #expect(names.contains("p/tenant_counts/2/counts"))
        // Appends after a rebuild keep it current; small chunks give the same result.
        try await fill(store, batches: 5)
        try expectMatchesScratch(store)
        try store.rebuildSync(named: ["tenant_counts"], progress: nil, chunk: 7)
        try expectMatchesScratch(store)
        await expectCode(.projectionFailed) { try await store.rebuildProjections(named: ["nope"], progress: nil) }
    }

    @Test func rebuildReadsAheadAcrossBatchesAndChunks() async throws {
        // More events than one read-ahead batch (2,048), with chunk boundaries that do not
        // line up with batches: the rebuilt tables equal the incrementally maintained ones.
        let store = try openStore(tempPath(), projections: [TenantCounts()])
        for b in 0..<10 {
            _ = try await store.append((0..<577).map { makeEvent(tenant: "tenant-\(($0 + b) % 7)", n: $0) })
        }
        try expectMatchesScratch(store)
        let before = try dump(store, TenantCounts().table("counts"))
        try store.rebuildSync(named: nil, progress: nil, chunk: 2_500)
        #expect(try dump(store, TenantCounts().table("counts")) == before)
        try expectMatchesScratch(store)
    }

    @Test func rebuildOverAGapFailsAndKeepsTheOldTables() async throws {
        let path = tempPath()
        do {
            let store = try openStore(path, projections: [TenantCounts()])
            _ = try await store.append((0..<3000).map { makeEvent(n: $0) })
        }
        waitUntilClosed(path)
        do {
            let env = try sharedEnvironment(path)
            let events = try #require(try env.openDatabase("events", key: UInt64BE.self, value: RawBytes.self, create: false))
            try env.writeSync { txn in _ = try txn.delete(events, 2_222) }
        }
        waitUntilClosed(path)
        let store = try openStore(path, create: false, projections: [TenantCounts()])
        let before = try dump(store, TenantCounts().table("counts"))
        #expect(before[Array("acme".utf8)] == UInt64BE.bytes(3000))
        do {
            try store.rebuildSync(named: nil, progress: nil)
            Issue.record("a rebuild over a missing event succeeded")
        } catch let e as EventLogError {
            #expect(e.code == .corruptEvent)
            #expect(e.message.contains("2222"), "\(e.message)")
        }
        #expect(try dump(store, TenantCounts().table("counts")) == before)
        #expect(try store.projectionStatus().first?.generation == 1)
    }

    @Test func versionBumpRebuildsOnReopen() async throws {
        let path = try await filledClosedStore()
        do {
            // A process without the projection appends; it catches up when opened with it.
            let plain = try openStore(path, create: false)
            _ = try await plain.append([makeEvent(tenant: "late", n: 1)])
        }
        waitUntilClosed(path)
        do {
            let store = try openStore(path, create: false, projections: [TenantCounts()])
            try expectMatchesScratch(store)
            let s = try #require(try store.projectionStatus().first)
            #expect(s.generation == 1 && s.version == 1)
        }
        waitUntilClosed(path)
        let store = try openStore(path, create: false, projections: [TenantCounts(version: 2)])
        let s = try #require(try store.projectionStatus().first)
        #expect(s.version == 2)
        #expect(s.generation == 2)
        #expect(s.checkpoint == (try store.head().position))
        try expectMatchesScratch(store)
        #expect(!(try sharedEnvironment(path).databaseNames()).contains { $0.hasPrefix("p/tenant_counts/1/") })
    }

    /// A version that adds a table: a read-only open reports the projection stale (instead of
    /// failing on the table the old generation lacks), a writable open rebuilds it.
    @Test func versionBumpAddingATableRebuildsOnReopen() async throws {
        let path = try await filledClosedStore()
        let bumped = TenantCounts(version: 2, tableNames: ["counts", "last", "extra"])
        do {
            let reader = try openStore(path, create: false, projections: [bumped], readOnly: true)
            #expect(try reader.staleProjections() == [StaleProjection(name: "tenant_counts", reason: .otherVersion(stored: 1, expected: 2))])
        }
        waitUntilClosed(path)
        let store = try openStore(path, create: false, projections: [bumped])
        let s = try #require(try store.projectionStatus().first)
        #expect(s.version == 2 && s.generation == 2)
        #expect(s.entries["extra"] == 0)
        try expectMatchesScratch(store)
    }

    @Test func abandonedRebuildIsDiscardedOnReopen() async throws {
        let path = try await filledClosedStore()
        // Simulate a rebuild by a process that died: a `building` record with a dead pid and a
        // half-filled generation 5.
        do {
            let env = try sharedEnvironment(path)
            let records = try #require(try env.openDatabase("projections", key: RawBytes.self, value: RawBytes.self, create: false))
            let junk = try #require(try env.openDatabase("p/tenant_counts/5/counts", key: RawBytes.self, value: RawBytes.self))
            try env.writeSync { txn in
                let record = try #require(try txn.get(records, Array("tenant_counts".utf8)))
                guard case .object(var o) = try JSONParser().parse(record) else { throw Boom() }
                o["building"] = ["generation": 5, "version": 1, "checkpoint": 3, "pid": 999_999]
                try txn.put(records, Array("tenant_counts".utf8), try CanonicalJSON.serialize(.object(o)))
                try txn.put(junk, Array("tenant-0".utf8), UInt64BE.bytes(12345))
            }
            // An orphan generation with no record at all is dropped as well.
            _ = try env.openDatabase("p/tenant_counts/9/last", key: RawBytes.self, value: RawBytes.self)
        }
        waitUntilClosed(path)
        let store = try openStore(path, create: false, projections: [TenantCounts()])
        try expectMatchesScratch(store)
        #expect(try store.projectionStatus().first?.generation == 1)
        let names = try sharedEnvironment(path).databaseNames()
        #expect(!names.contains { $0.hasPrefix("p/tenant_counts/5/") }, "\(names)")
        #expect(!names.contains { $0.hasPrefix("p/tenant_counts/9/") }, "\(names)")
        let record = try store.read { _ in
            try sharedEnvironment(path).read { txn in
                try txn.get(try #require(try sharedEnvironment(path).openDatabase("projections", key: RawBytes.self, value: RawBytes.self, create: false)),
                            Array("tenant_counts".utf8))
            }
        }
        let value = try JSONParser().parse(try #require(record))
        #expect(value["building"] == nil)
        #expect(value["generation"]?.intValue == 1)
        // And a rebuild still works afterwards.
        try store.rebuildSync(named: nil, progress: nil)
        try expectMatchesScratch(store)
    }

    @Test func projectionErrorRejectsOnlyItsBatch() async throws {
        struct Picky: Projection {
            let name = "picky"
            let version = 1
            let tableNames = ["seen"]
            func apply(_ event: ProjectionEvent, to tables: any KeyValueWriter) throws {
                tables.tally("picky.seen", 1)
                if event.tenant == "g1" { tables.tally("picky.g1", 2) }
                if event.type == "test.poison" { throw Boom() }
                try tables.put(table("seen"), UInt64BE.bytes(event.position), [])
            }
        }
        let store = try openStore(tempPath(), projections: [Picky()])
        // Each batch gets the tallies its own events made.
        #expect(try await store.append([makeEvent()]).tallies == ["picky.seen": 1])
        await expectCode(.projectionFailed) { _ = try await store.append([makeEvent(), makeEvent(type: "test.poison")]) }
        _ = try await store.append([makeEvent()])
        #expect(try store.head().position == 2)
        #expect(try dump(store, Picky().table("seen")).count == 2)
        verifyChain(try allRawEvents(store))

        // In one group (the writer thread held so that all land in one commit): the poisoned
        // batch fails alone, after its precondition's write and a good event of its own were
        // applied; the batches before and after it, with their preconditions' writes, stay.
        let state = StoreTable.state("leases")
        let path = tempPath()
        let grouped = try openStore(path, projections: [Picky()], stateTables: ["leases"])
        let env = try sharedEnvironment(path)
        let gate = DispatchSemaphore(value: 0)
        env.onWriterThread { gate.wait() }
        let txnBefore = env.info().lastTransactionID
        let good = (0..<3).map { i in (0..<4).map { makeEvent(tenant: "g\(i)", n: $0) } }
        let poisoned = [makeEvent(n: 9), makeEvent(type: "test.poison"), makeEvent(n: 10)]
        async let r0 = grouped.append(good[0]) { w in try w.put(state, Array("a".utf8), [1]) }
        async let bad: AppendResult = grouped.append(poisoned) { w in try w.put(state, Array("bad".utf8), [1]) }
        async let r1 = grouped.append(good[1])
        async let r2 = grouped.append(good[2]) { w in try w.put(state, Array("c".utf8), [3]) }
        try await Task.sleep(for: .milliseconds(300))
        gate.signal()
        let results = try await [r0, r1, r2]
        do {
            _ = try await bad
            Issue.record("the poisoned batch was appended")
        } catch {
            #expect((error as? EventLogError)?.code == .projectionFailed, "\(error)")
        }
        #expect(env.info().lastTransactionID - txnBefore == 1, "one commit")
        #expect(results.flatMap(\.positions).sorted() == Array(1...12))
        #expect(results.map(\.tallies) == [["picky.seen": 4], ["picky.seen": 4, "picky.g1": 8], ["picky.seen": 4]])
        for e in poisoned { #expect(try grouped.position(of: e.id) == nil) }
        #expect(try dump(grouped, Picky().table("seen")).count == 12)
        #expect(try grouped.read { try $0.get(state, Array("a".utf8)) } == [1])
        #expect(try grouped.read { try $0.get(state, Array("c".utf8)) } == [3])
        #expect(try grouped.read { try $0.get(state, Array("bad".utf8)) } == nil)
        verifyChain(try allRawEvents(grouped))
    }
}
