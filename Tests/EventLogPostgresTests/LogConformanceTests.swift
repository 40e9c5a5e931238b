import AtlasTesting
import CanonicalJSON
import EventLog
import EventLogPostgres
import Foundation
import Testing

/// The log's contract, checked the same way on LMDB and on PostgreSQL.
@Suite("Event log conformance")
struct LogConformanceTests {
    @Test(arguments: Backend.allCases)
    func appendsAreGaplessChainedAndReadBack(_ backend: Backend) async throws {
        let store = try await StoreLocation.fresh(backend, "append").open()
        #expect(try store.head() == .empty)
        let first = try await store.append((0..<5).map { makeEvent(tenant: "acme", n: $0) })
        #expect(first.positions == [1, 2, 3, 4, 5])
        #expect(first.written == 5)
        let second = try await store.append((5..<8).map { makeEvent(tenant: "globex", n: $0) })
        #expect(second.positions == [6, 7, 8])
        let events = try allRawEvents(store)
        #expect(events.map(\.position) == Array(1...8))
        let head = try store.head()
        #expect(head.position == 8)
        #expect(try IndependentChain.recompute(events).get() == head.chainHash.bytes)
        #expect(second.head == head)
        #expect(try store.rawEvents(from: 7, limit: 10).map(\.position) == [7, 8])
        #expect(try store.rawEvents(from: 9, limit: 10).isEmpty)
        #expect(try store.events(from: 1, limit: 1).first?.envelope.tenant == "acme")
        #expect(try store.tenantPositions("acme", after: 2, limit: 2) == [3, 4])
        #expect(try store.tenantPositions("globex", after: 0, limit: 10) == [6, 7, 8])
        #expect(try store.tenantPositions("nobody", after: 0, limit: 10) == [])
        let id = try store.events(from: 7, limit: 1)[0].envelope.id
        #expect(try store.position(of: id) == 7)
        #expect(try store.position(of: .generate()) == nil)
        #expect(try store.read { try $0.rawEvent(at: 3)?.position } == 3)
        #expect(try store.read { try $0.rawEvent(at: 9) } == nil)
    }

    @Test(arguments: Backend.allCases)
    func appendIsIdempotentByEventID(_ backend: Backend) async throws {
        let store = try await StoreLocation.fresh(backend, "idempotent").open(projections: [TenantCounts()])
        let events = (0..<4).map { makeEvent(n: $0) }
        try await store.append(Array(events.prefix(2)))
        let retried = try await store.append(events)
        #expect(retried.positions == [1, 2, 3, 4])
        #expect(retried.written == 2)
        // The same id twice in one batch keeps one position.
        let again = makeEvent(n: 9)
        let twice = try await store.append([again, again, events[0]])
        #expect(twice.positions == [5, 5, 1])
        #expect(twice.written == 1)
        #expect(try store.head().position == 5)
        #expect(try counts(store) == ["acme": 5])
    }

    @Test(arguments: Backend.allCases)
    func failedPreconditionWritesNothingAndLeavesOthersInPlace(_ backend: Backend) async throws {
        let store = try await StoreLocation.fresh(backend, "precondition").open(projections: [TenantCounts()], stateTables: ["locks"])
        try await store.append([makeEvent(n: 0)])
        let before = try store.head()
        await expectRefusal {
            try await store.append([makeEvent(n: 1)], precondition: { tables in
                try tables.put(.state("locks"), Array("held".utf8), [1])
                throw Refused()
            })
        }
        #expect(try store.head() == before)
        #expect(try store.read { try $0.get(.state("locks"), Array("held".utf8)) } == nil)
        #expect(try counts(store) == ["acme": 1])
        // Concurrent appends, some refused: the others commit, gapless.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<20 {
                group.addTask {
                    do {
                        try await store.append([makeEvent(tenant: "t\(i % 3)", n: i)], precondition: { tables in
                            try tables.put(.state("locks"), Array("k\(i)".utf8), [UInt8(i)])
                            if i % 4 == 0 { throw Refused() }
                        })
                    } catch is Refused {}
                }
            }
            try await group.waitForAll()
        }
        let events = try allRawEvents(store)
        #expect(events.count == 1 + 15)
        _ = try IndependentChain.recompute(events).get()
        let locks = try store.read { r in
            var n = 0
            try r.scan(.state("locks"), prefix: Array("k".utf8)) { _, _ in n += 1; return true }
            return n
        }
        #expect(locks == 15)
        #expect(try counts(store).values.reduce(0, +) == 16)
    }

    @Test(arguments: Backend.allCases)
    func preconditionSeesStateAndTalliesReachTheCaller(_ backend: Backend) async throws {
        let store = try await StoreLocation.fresh(backend, "state").open(projections: [TenantCounts()], stateTables: ["locks"])
        let stored = try await store.updateState { tables -> Int in
            try tables.put(.state("locks"), Array("a".utf8), [7])
            try tables.put(.state("locks"), Array("b".utf8), [8])
            return try tables.count(.state("locks"))
        }
        #expect(stored == 2)
        let removed = try await store.updateState { tables in try tables.delete(.state("locks"), Array("b".utf8)) }
        #expect(removed)
        let missing = try await store.updateState { tables in try tables.delete(.state("locks"), Array("zz".utf8)) }
        #expect(!missing)
        let r = try await store.append([makeEvent(n: 1), makeEvent(n: 2)], precondition: { tables in
            guard try tables.get(.state("locks"), Array("a".utf8)) == [7] else { throw Refused() }
            var keys: [String] = []
            try tables.scan(.state("locks"), prefix: []) { k, _ in keys.append(String(decoding: k, as: UTF8.self)); return true }
            guard keys == ["a"] else { throw Refused() }
        })
        #expect(r.tallies["applied"] == 2)
        #expect(try store.read { try $0.count(.state("locks")) } == 1)
    }

    @Test(arguments: Backend.allCases)
    func scansFollowByteOrderPrefixesAndStarts(_ backend: Backend) async throws {
        let store = try await StoreLocation.fresh(backend, "scan").open(stateTables: ["kv"])
        let keys: [[UInt8]] = [[0x01], [0x01, 0x00], [0x01, 0xFF], [0x01, 0xFF, 0xFF], [0x02], [0x7F], [0x80], [0xFF], [0xFF, 0x00]]
        try await store.updateState { tables in
            for k in keys { try tables.put(.state("kv"), k, k + [9]) }
        }
        func scan(_ prefix: [UInt8], from start: [UInt8]? = nil, reverse: Bool = false) throws -> [[UInt8]] {
            try store.read { r in
                var out: [[UInt8]] = []
                try r.scan(.state("kv"), prefix: prefix, from: start, reverse: reverse) { k, v in
                    #expect(Array(v) == Array(k) + [9])
                    out.append(Array(k))
                    return true
                }
                return out
            }
        }
        #expect(try scan([]) == keys)
        #expect(try scan([0x01]) == [[0x01], [0x01, 0x00], [0x01, 0xFF], [0x01, 0xFF, 0xFF]])
        #expect(try scan([0x01, 0xFF]) == [[0x01, 0xFF], [0x01, 0xFF, 0xFF]])
        #expect(try scan([0xFF]) == [[0xFF], [0xFF, 0x00]])
        #expect(try scan([0x01], reverse: true) == [[0x01, 0xFF, 0xFF], [0x01, 0xFF], [0x01, 0x00], [0x01]])
        #expect(try scan([0x01], from: [0x01, 0x01]) == [[0x01, 0xFF], [0x01, 0xFF, 0xFF]])
        #expect(try scan([0x01], from: [0x01, 0x80], reverse: true) == [[0x01, 0x00], [0x01]])
        #expect(try scan([0x03]) == [])
        #expect(try store.read { try $0.count(.state("kv")) } == keys.count)
    }

    @Test(arguments: Backend.allCases)
    func readIsOneSnapshot(_ backend: Backend) async throws {
        let location = try await StoreLocation.fresh(backend, "snapshot")
        let store = try location.open(projections: [TenantCounts()])
        let other = try location.open(projections: [TenantCounts()])
        try await store.append([makeEvent(n: 0)])
        // The read blocks its thread while another writer commits: run it off the cooperative pool.
        let (a, b, sawSecond): (UInt64?, UInt64?, Bool) = try await withCheckedThrowingContinuation { c in
            DispatchQueue.global().async {
                c.resume(with: Result {
                    try store.read { r in
                        let table = StoreTable.projection("tenant_counts", "counts")
                        let first = try r.withValue(table, Array("acme".utf8)) { $0.reduce(0) { $0 << 8 | UInt64($1) } }
                        let sem = DispatchSemaphore(value: 0)
                        Task.detached {
                            _ = try? await other.append([makeEvent(n: 1)])
                            sem.signal()
                        }
                        sem.wait()
                        let second = try r.withValue(table, Array("acme".utf8)) { $0.reduce(0) { $0 << 8 | UInt64($1) } }
                        return (first, second, try r.rawEvent(at: 2) != nil)
                    }
                })
            }
        }
        #expect(!sawSecond)
        #expect(a == 1)
        #expect(b == 1)
        #expect(try counts(store) == ["acme": 2])
    }

    @Test(arguments: Backend.allCases)
    func projectionStatusAndRebuildEqualIncremental(_ backend: Backend) async throws {
        let location = try await StoreLocation.fresh(backend, "rebuild")
        let p = TenantCounts()
        let store = try location.open(projections: [p])
        for batch in 0..<6 {
            try await store.append((0..<50).map { makeEvent(tenant: "t\(($0 + batch) % 4)", n: $0 + batch * 50) })
        }
        let incremental = try dumpProjection(store, p)
        let status = try store.projectionStatus()
        #expect(status.map(\.name) == ["tenant_counts"])
        #expect(status[0].checkpoint == 300)
        #expect(status[0].entries["counts"] == 4)
        #expect(status[0].entries["last"] == 4)
        #expect(status[0].entries["odd"] == 150)
        let g = status[0].generation
        let progress = ProgressLog()
        try await store.rebuildProjections(named: nil, progress: { applied, head in progress.add(applied, head) })
        #expect(try dumpProjection(store, p) == incremental)
        let after = try store.projectionStatus()
        #expect(after[0].generation == g + 1)
        #expect(after[0].checkpoint == 300)
        #expect(progress.last?.1 == 300)
        #expect(progress.last?.0 == 300)
        // A store opened with a new projection version builds it from the log.
        var v2 = TenantCounts()
        v2.version = 2
        let reopened = try location.open(projections: [v2])
        #expect(try dumpProjection(reopened, v2) == incremental)
        #expect(try reopened.projectionStatus()[0].version == 2)
        // Appends after the rebuild go on from there.
        try await reopened.append([makeEvent(tenant: "t0", n: 1)])
        #expect(try counts(reopened)["t0"] == 76)
        await expectCode(.projectionFailed) { try await reopened.rebuildProjections(named: ["nope"], progress: nil) }
    }

    @Test(arguments: Backend.allCases)
    func eventsOnlyStoreCatchesUpAProjectionAddedLater(_ backend: Backend) async throws {
        let location = try await StoreLocation.fresh(backend, "catchup")
        let plain = try location.open()
        try await plain.append((0..<30).map { makeEvent(tenant: "t\($0 % 3)", n: $0) })
        let with = try location.open(projections: [TenantCounts()])
        #expect(try counts(with) == ["t0": 10, "t1": 10, "t2": 10])
        // Events appended by a process without the projection are applied by the next append of one with it.
        try await plain.append([makeEvent(tenant: "t0", n: 99)])
        try await with.append([makeEvent(tenant: "t1", n: 100)])
        #expect(try counts(with) == ["t0": 11, "t1": 11, "t2": 10])
        #expect(try with.projectionStatus()[0].checkpoint == 32)
    }

    @Test(arguments: Backend.allCases)
    func readOnlyRefusesWritesAndMissingStoreIsNotAStore(_ backend: Backend) async throws {
        let location = try await StoreLocation.fresh(backend, "readonly")
        await expectCode(.notAStore) { _ = try location.open(create: false) }
        do {
            let store = try location.open()
            try await store.append([makeEvent()])
            await expectCode(.invalidEvent) {
                try await store.append([EventEnvelope(type: "BAD TYPE", tenant: "acme", data: [:])])
            }
        }
        // (LMDB refuses a read-only open of a store this process has open for writing.)
        let ro = try location.open(create: false, readOnly: true)
        #expect(try ro.head().position == 1)
        await expectCode(.readOnly) { try await ro.append([makeEvent()]) }
    }
}

final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(UInt64, UInt64)] = []
    func add(_ a: UInt64, _ b: UInt64) { lock.lock(); entries.append((a, b)); lock.unlock() }
    var last: (UInt64, UInt64)? { lock.lock(); defer { lock.unlock() }; return entries.last }
}

func expectRefusal(sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("expected the precondition's refusal", sourceLocation: sourceLocation)
    } catch is Refused {
    } catch {
        Issue.record("expected Refused, got \(error)", sourceLocation: sourceLocation)
    }
}
