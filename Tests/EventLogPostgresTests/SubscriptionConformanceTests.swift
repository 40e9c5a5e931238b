import EventLog
import EventLogPostgres
import Foundation
import Testing

/// Subscriptions, named consumers and verbatim copies behave the same on both backends.
@Suite("Subscription and copy conformance")
struct SubscriptionConformanceTests {
    @Test(arguments: Backend.allCases)
    func followerSeesNewEventsAndConsumersResume(_ backend: Backend) async throws {
        let store = try await StoreLocation.fresh(backend, "follow").open(projections: [TenantCounts()])
        try await store.append((0..<3).map { makeEvent(tenant: "acme", n: $0) })
        let sub = try store.subscribe(after: 1, filter: .all, options: .init())
        var it = sub.makeAsyncIterator()
        #expect(try await it.next()?.position == 2)
        #expect(try await it.next()?.position == 3)
        // A commit after the follower caught up reaches it.
        try await store.append([makeEvent(tenant: "globex", n: 9)])
        #expect(try await it.next()?.position == 4)
        try await sub.close()

        // A named consumer: its checkpoint moves with what it acknowledges, one holder at a time.
        let consumer = try store.subscribe(consumer: "auditor", filter: SubscriptionFilter(tenant: "acme"), startingAfter: 0,
                                           reset: false, options: .init(leaseDuration: .seconds(600)))
        var c = consumer.makeAsyncIterator()
        #expect(try await c.next()?.position == 1)
        #expect(try await c.next()?.position == 2)
        #expect(try store.consumerLease("auditor") != nil)
        await expectCode(.consumerHeld) { _ = try await store.setConsumerCheckpoint("auditor", to: 0) }
        await expectCode(.consumerHeld) {
            _ = try store.subscribe(consumer: "auditor", filter: SubscriptionFilter(tenant: "acme"), startingAfter: 0, reset: false, options: .init())
        }
        try consumer.ack(2)
        try await consumer.close()
        #expect(try store.consumerCheckpoint("auditor")?.acknowledged == 2)
        #expect(try store.consumers().map(\.name) == ["auditor"])
        await expectCode(.consumerFilterMismatch) {
            _ = try store.subscribe(consumer: "auditor", filter: .all, startingAfter: 0, reset: false, options: .init())
        }
        let moved = try await store.setConsumerCheckpoint("auditor", to: 1)
        #expect(moved.acknowledged == 1)
        #expect(try await store.removeConsumer("auditor"))
        #expect(try store.consumerCheckpoint("auditor") == nil)
    }

    @Test(arguments: Backend.allCases)
    func filteredCatchUpReadsInPagesWithoutSkippingOrRepeating(_ backend: Backend) async throws {
        // Chunks of 3 events and reads that examine at most 7: a filter matching one event in
        // three makes reads that end on the scan limit, on a full chunk, and at the head.
        let store = try await StoreLocation.fresh(backend, "pages").open(projections: [TenantCounts()])
        try await store.append((0..<61).map { makeEvent(tenant: $0 % 3 == 0 ? "acme" : "globex", n: $0) })
        for (filter, expected) in [(SubscriptionFilter(tenant: "acme"), Array(stride(from: 1, through: 61, by: 3))),
                                   (.all, Array(1...61))] {
            let sub = try store.subscribe(after: 0, filter: filter, options: .init(chunkSize: 3, scanLimit: 7))
            var seen: [UInt64] = []
            for try await e in sub {
                seen.append(e.position)
                if seen.count == expected.count { break }
            }
            try await sub.close()
            #expect(seen == expected.map(UInt64.init))
        }
    }

    @Test(arguments: Backend.allCases)
    func verbatimCopyKeepsPositionsChainAndBytes(_ backend: Backend) async throws {
        // From LMDB to the backend under test, then back into LMDB: equal heads throughout.
        let source = try await StoreLocation.fresh(.lmdb, "source").open(projections: [TenantCounts()])
        try await source.append((0..<120).map { makeEvent(tenant: "t\($0 % 4)", n: $0) })
        let events = try allRawEvents(source)
        let copy = try await StoreLocation.fresh(backend, "copy").open(projections: [TenantCounts()])
        await expectCode(.positionOutOfRange) { try await copy.appendVerbatim(Array(events[1...])) }
        let tampered = RawEvent(position: 1, chainHash: events[1].chainHash, json: events[0].json)
        await expectCode(.corruptEvent) { try await copy.appendVerbatim([tampered]) }
        #expect(try copy.head() == .empty)
        for chunk in stride(from: 0, to: events.count, by: 50) {
            try await copy.appendVerbatim(Array(events[chunk..<min(events.count, chunk + 50)]))
        }
        #expect(try copy.head() == source.head())
        #expect(try allRawEvents(copy) == events)
        #expect(try counts(copy) == counts(source))
        await expectCode(.positionOutOfRange) { try await copy.appendVerbatim([events[5]]) }
        // The raw tables, entry by entry, as a verifier walks them.
        for table in LogTable.allCases {
            var a: [RawTableEntry] = [], b: [RawTableEntry] = []
            var key: [UInt8]? = nil
            while case let page = try copy.rawEntries(table, after: key, limit: 37), !page.isEmpty {
                a += page
                key = page.last!.key
            }
            key = nil
            while case let page = try source.rawEntries(table, after: key, limit: 41), !page.isEmpty {
                b += page
                key = page.last!.key
            }
            #expect(a == b, "\(table)")
        }
        #expect(try copy.tenants() == ["t0", "t1", "t2", "t3"])
    }
}
