import CanonicalJSON
import EventLog
import Foundation
import LMDB
import Testing

@Suite struct AppendTests {
    @Test func roundTripGaplessPositionsAndChain() async throws {
        let path = tempPath()
        let store = try openStore(path)
        #expect(try store.head() == .empty)
        var sent: [EventEnvelope] = []
        for b in 0..<5 {
            let batch = (0..<(b + 1)).map { makeEvent(tenant: b % 2 == 0 ? "acme" : "globex", n: b * 10 + $0) }
            let r = try await store.append(batch)
            #expect(r.written == batch.count)
            #expect(r.positions == (0..<batch.count).map { UInt64(sent.count + $0 + 1) })
            #expect(r.head.position == UInt64(sent.count + batch.count))
            sent += batch
        }
        let raw = try allRawEvents(store, chunk: 4)
        #expect(raw.count == sent.count)
        let head = verifyChain(raw)
        #expect(try store.head() == LogHead(position: UInt64(sent.count), chainHash: ChainHash(bytes: head)!))
        for (e, env) in zip(raw, sent) {
            #expect(e.json == (try env.canonicalJSON()))
            let decoded = try e.decode()
            #expect(decoded.envelope == env)
            #expect(decoded.position == e.position)
            #expect(try store.position(of: env.id) == e.position)
        }
        // The stored JSON is what CanonicalJSON makes of the parsed value (it is canonical).
        for e in raw { #expect(try CanonicalJSON.canonicalize(e.json) == e.json) }
        #expect(try store.events(from: 3, limit: 2).map(\.position) == [3, 4])
        #expect(try store.rawEvents(from: 100, limit: 10).isEmpty)
        #expect(try store.position(of: .generate()) == nil)
        let meta = try store.metadata()
        #expect(meta["format_version"] == "2")
        #expect(meta["store_id"].flatMap(EventID.init) != nil)
        #expect(meta["created_at"].flatMap { Timestamp(rfc3339: $0) } != nil)
    }

    @Test func idempotentRetryByID() async throws {
        let path = tempPath()
        let store = try openStore(path)
        let batch = (0..<10).map { makeEvent(n: $0) }
        let first = try await store.append(batch)
        let env = try sharedEnvironment(path)
        let txnBefore = env.info().lastTransactionID
        let headBefore = try store.head()
        let again = try await store.append(batch)
        #expect(again.positions == first.positions)
        #expect(again.written == 0)
        #expect(again.head == headBefore)
        #expect(try store.head() == headBefore)
        #expect(env.info().lastTransactionID == txnBefore, "a fully retried batch commits nothing")
        // A partly retried batch: old ids keep their positions, new ones are appended.
        let extra = [makeEvent(n: 100), makeEvent(n: 101)]
        let mixed = try await store.append([batch[3], extra[0], batch[7], extra[1]])
        #expect(mixed.positions == [4, 11, 8, 12])
        #expect(mixed.written == 2)
        // The same id twice in one batch is written once.
        let dup = makeEvent(n: 200)
        let r = try await store.append([dup, dup])
        #expect(r.positions == [13, 13])
        #expect(r.written == 1)
        verifyChain(try allRawEvents(store))
        #expect(try allRawEvents(store).count == 13)
        // An id below every stored one (a clock behind, a foreign id) is looked up: new, it is
        // appended; retried, it keeps its position.
        let low = makeEvent(n: 300, id: EventID(bytes: [UInt8](repeating: 0, count: 15) + [1])!)
        let lowFirst = try await store.append([low])
        #expect(lowFirst.positions == [14] && lowFirst.written == 1)
        let lowAgain = try await store.append([makeEvent(n: 301), low])
        #expect(lowAgain.positions == [15, 14] && lowAgain.written == 1)
        #expect(try store.position(of: low.id) == 14)
        verifyChain(try allRawEvents(store))
    }

    /// Ids are indexed once per group commit, sorted over all its requests: requests whose ids
    /// interleave, repeat each other's or an already stored id, or sort below every stored id
    /// all get the positions a one-by-one append would give them.
    @Test func groupWithInterleavedAndRepeatedIDs() async throws {
        func id(_ top: UInt8, _ n: Int) -> EventID { EventID(bytes: [top] + [UInt8](repeating: 0, count: 13) + [UInt8(n >> 8), UInt8(n & 0xFF)])! }
        let path = tempPath()
        let store = try openStore(path)
        let stored = try await store.append([makeEvent(n: 0, id: id(0x80, 0))])
        #expect(stored.positions == [1])
        let env = try sharedEnvironment(path)
        let gate = DispatchSemaphore(value: 0)
        env.onWriterThread { gate.wait() }
        let txnBefore = env.info().lastTransactionID
        let odd = (0..<50).map { makeEvent(n: $0, id: id(0x90, 2 * $0 + 1)) }
        let even = (0..<50).map { makeEvent(n: $0, id: id(0x90, 2 * $0)) }
        // Repeats: an id of each earlier request, the stored one, and one twice; and ids below the stored one.
        let fresh = makeEvent(n: 7, id: id(0x90, 999))
        let mixed = [odd[10], fresh, even[0], makeEvent(n: 1, id: id(0x80, 0)), fresh, makeEvent(n: 8, id: id(0x10, 1))]
        async let a = store.append(odd)
        try await Task.sleep(for: .milliseconds(50))
        async let b = store.append(even)
        try await Task.sleep(for: .milliseconds(50))
        async let c = store.append(mixed)
        try await Task.sleep(for: .milliseconds(200))
        gate.signal()
        let (ra, rb, rc) = try await (a, b, c)
        #expect(env.info().lastTransactionID - txnBefore == 1, "one commit")
        #expect(ra.positions == Array(2...51) && ra.written == 50)
        #expect(rb.positions == Array(52...101) && rb.written == 50)
        #expect(rc.positions == [12, 102, 52, 1, 102, 103] && rc.written == 2)
        // The index agrees with the log for every event, and a retry of everything changes nothing.
        let raw = try allRawEvents(store)
        #expect(raw.count == 103)
        verifyChain(raw)
        for (e, p) in zip(odd + even, Array(2...101)) { #expect(try store.position(of: e.id) == UInt64(p)) }
        #expect(try store.position(of: id(0x10, 1)) == 103)
        let again = try await store.append(odd + even + mixed)
        #expect(again.written == 0 && again.positions == Array(2...101) + [12, 102, 52, 1, 102, 103])
        #expect(try store.head().position == 103)
    }

    @Test func invalidEnvelopesAreRejectedWithNothingWritten() async throws {
        let path = tempPath()
        let store = try openStore(path)
        try await store.append([makeEvent()])
        let env = try sharedEnvironment(path)
        let txn = env.info().lastTransactionID
        let head = try store.head()
        var badType = makeEvent(); badType.type = "Bad Type!"
        var upperType = makeEvent(); upperType.type = "Inventory.Item"
        var emptyTenant = makeEvent(); emptyTenant.tenant = ""
        var nulTenant = makeEvent(); nulTenant.tenant = "a\u{0}b"
        var arrayData = makeEvent(); arrayData.data = [1, 2]
        var stringData = makeEvent(); stringData.data = "x"
        var nan = makeEvent(); nan.data = ["x": .number(.nan)]
        var inf = makeEvent(); inf.data = ["deep": ["x": .number(.infinity)]]
        var badSchema = makeEvent(); badSchema.schema = 0
        var emptyCorrelation = makeEvent(); emptyCorrelation.correlationID = ""
        for bad in [badType, upperType, emptyTenant, nulTenant, arrayData, stringData, nan, inf, badSchema, emptyCorrelation] {
            await expectCode(.invalidEvent) { try await store.append([bad]) }
            // A valid event in the same batch is not written either.
            let good = makeEvent()
            await expectCode(.invalidEvent) { try await store.append([good, bad]) }
            #expect(try store.position(of: good.id) == nil)
        }
        #expect(try store.head() == head)
        #expect(env.info().lastTransactionID == txn)
    }

    @Test func concurrentAppendsAreGaplessAndGroupCommitted() async throws {
        let path = tempPath()
        let store = try openStore(path)
        let env = try sharedEnvironment(path)
        let txnBefore = env.info().lastTransactionID
        let tasks = 50, batches = 20, size = 3
        let results = try await withThrowingTaskGroup(of: [AppendResult].self) { group in
            for t in 0..<tasks {
                group.addTask {
                    var out: [AppendResult] = []
                    for b in 0..<batches {
                        out.append(try await store.append((0..<size).map { makeEvent(tenant: "t\(t % 5)", n: b * size + $0) }))
                    }
                    return out
                }
            }
            var all: [AppendResult] = []
            for try await r in group { all += r }
            return all
        }
        let total = tasks * batches * size
        #expect(results.count == tasks * batches)
        let positions = results.flatMap(\.positions)
        #expect(Set(positions).count == total)
        #expect(positions.min() == 1 && positions.max() == UInt64(total))
        // Each batch is contiguous: one request is applied as a unit.
        for r in results { #expect(r.positions == Array(r.positions[0]...r.positions[0] + UInt64(size - 1))) }
        #expect(try store.head().position == UInt64(total))
        let raw = try allRawEvents(store, chunk: 777)
        #expect(raw.count == total)
        verifyChain(raw)
        let commits = env.info().lastTransactionID - txnBefore
        #expect(commits < tasks * batches, "group commit: \(commits) commits for \(tasks * batches) batches")
        print("group commit: \(commits) commits carried \(tasks * batches) batches")
        for t in 0..<5 {
            #expect(try store.tenantPositions("t\(t)", after: 0, limit: .max).count == total / 5)
        }
    }

    @Test func tenantPositionsAndTenants() async throws {
        let store = try openStore(tempPath())
        let tenants = ["b", "a", "a\u{1}", "é", "a b", "aa"]
        var expected: [String: [UInt64]] = [:]
        for i in 0..<30 {
            let t = tenants[i % tenants.count]
            let r = try await store.append([makeEvent(tenant: t, n: i)])
            expected[t, default: []].append(r.positions[0])
        }
        #expect(try store.tenants() == tenants.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        for t in tenants {
            #expect(try store.tenantPositions(t, after: 0, limit: 100) == expected[t]!)
            let third = expected[t]![2]
            #expect(try store.tenantPositions(t, after: third, limit: 100) == Array(expected[t]!.dropFirst(3)))
            #expect(try store.tenantPositions(t, after: 0, limit: 2) == Array(expected[t]!.prefix(2)))
        }
        #expect(try store.tenantPositions("zzz", after: 0, limit: 10).isEmpty)
        #expect(try store.tenantPositions("a", after: .max, limit: 10).isEmpty)
        let empty = try openStore(tempPath())
        #expect(try empty.tenants().isEmpty)
    }

    @Test func updateStateAndPreconditions() async throws {
        let path = tempPath()
        let leases = StoreTable.state("leases")
        let store = try openStore(path, stateTables: ["leases"])
        try await store.updateState { w in try w.put(leases, Array("k".utf8), [1]) }
        #expect(try store.read { try $0.get(leases, Array("k".utf8)) } == [1])
        // A throwing updateState leaves nothing.
        await #expect(throws: Boom.self) {
            try await store.updateState { w in
                try w.put(leases, Array("k".utf8), [2])
                try w.put(leases, Array("other".utf8), [2])
                throw Boom()
            }
        }
        #expect(try store.read { try $0.get(leases, Array("k".utf8)) } == [1])
        #expect(try store.read { try $0.get(leases, Array("other".utf8)) } == nil)
        // An unknown table is an error, not a crash.
        await #expect(throws: EventLogError.self) {
            try await store.updateState { w in try w.put(.state("nope"), [1], [1]) }
        }

        // A precondition that passes writes its state with the events.
        let ok = makeEvent(n: 1)
        try await store.append([ok]) { w in
            guard try w.get(leases, Array("k".utf8)) == [1] else { throw Boom() }
            try w.put(leases, Array("k".utf8), [3])
        }
        #expect(try store.read { try $0.get(leases, Array("k".utf8)) } == [3])
        // A throwing precondition alone: nothing written.
        let head = try store.head()
        let rejected = makeEvent(n: 2)
        await #expect(throws: Boom.self) {
            try await store.append([rejected]) { w in
                try w.put(leases, Array("k".utf8), [9])
                throw Boom()
            }
        }
        #expect(try store.head() == head)
        #expect(try store.position(of: rejected.id) == nil)
        #expect(try store.read { try $0.get(leases, Array("k".utf8)) } == [3])

        // In one group: hold the writer thread so every append below lands in the same commit.
        let env = try sharedEnvironment(path)
        let gate = DispatchSemaphore(value: 0)
        env.onWriterThread { gate.wait() }
        let txnBefore = env.info().lastTransactionID
        let failing = (0..<3).map { makeEvent(tenant: "f", n: $0) }
        let passing = (0..<4).map { i in (0..<2).map { makeEvent(tenant: "p\(i)", n: $0) } }
        async let r0 = store.append(passing[0])
        async let r1 = store.append(passing[1])
        async let bad: AppendResult = store.append(failing) { w in
            try w.put(leases, Array("k".utf8), [42])
            throw Boom()
        }
        async let r2 = store.append(passing[2]) { w in try w.put(leases, Array("p2".utf8), [2]) }
        async let r3 = store.append(passing[3])
        try await Task.sleep(for: .milliseconds(300))
        gate.signal()
        let results = try await [r0, r1, r2, r3]
        do {
            _ = try await bad
            Issue.record("the failing precondition did not throw")
        } catch {
            #expect(error is Boom)
        }
        #expect(env.info().lastTransactionID - txnBefore == 1, "all five requests went into one commit")
        let positions = results.flatMap(\.positions).sorted()
        #expect(positions == Array((head.position + 1)...(head.position + 8)))
        for f in failing { #expect(try store.position(of: f.id) == nil) }
        for r in results { #expect(r.head.position == head.position + 8) }
        #expect(try store.read { try $0.get(leases, Array("k".utf8)) } == [3])
        #expect(try store.read { try $0.get(leases, Array("p2".utf8)) } == [2])
        verifyChain(try allRawEvents(store))
    }

    @Test func readOnlyStoreRefusesAppends() async throws {
        let path = tempPath()
        do {
            let store = try openStore(path)
            _ = try await store.append([makeEvent()])
        }
        waitUntilClosed(path)
        let ro = try openStore(path, create: false, readOnly: true)
        #expect(try ro.head().position == 1)
        await expectCode(.readOnly) { try await ro.append([makeEvent()]) }
        await expectCode(.readOnly) { try await ro.updateState { _ in } }
    }

    @Test func relaxedDurabilityWorksAndFlushes() async throws {
        let store = try openStore(tempPath(), durability: .relaxed)
        try await store.append((0..<100).map { makeEvent(n: $0) })
        try store.flush()
        #expect(try store.head().position == 100)
    }

    @Test func storesAreReleasedAndReopened() async throws {
        let path = tempPath()
        for i in 0..<20 {
            weak var weakStore: LMDBEventStore?
            do {
                let store = try openStore(path, create: i == 0)
                weakStore = store
                try await store.append([makeEvent(n: i)])
            }
            for _ in 0..<100 where weakStore != nil { usleep(5_000) }
            #expect(weakStore == nil)
        }
        let store = try openStore(path, create: false)
        #expect(try store.head().position == 20)
        verifyChain(try allRawEvents(store))
    }
}

struct Boom: Error {}
