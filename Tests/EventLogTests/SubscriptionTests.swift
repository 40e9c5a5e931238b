import CanonicalJSON
import EventLog
import Foundation
import Testing

/// In-process tests of subscriptions and named consumers.
@Suite(.timeLimit(.minutes(2))) struct SubscriptionTests {
    @Test func catchesUpThenFollowsLiveCommits() async throws {
        let store = try SubKit.open(SubKit.path())
        try await store.append((0..<10).map { SubKit.event(n: $0) })
        let sub = try store.subscribe()
        #expect(sub.wakeMode == "inotify")
        let writer = Task {
            try await Task.sleep(for: .milliseconds(50))
            for b in 0..<5 { try await store.append([SubKit.event(n: 100 + b)]) }
        }
        let events = try await SubKit.collect(sub, count: 15)
        try await writer.value
        #expect(events.map(\.position) == Array(1...15))
        // Raw events carry the stored chain; decoding gives the envelope.
        let decoded = try events.map { try $0.decode() }
        #expect(decoded.last?.envelope.data["n"]?.intValue == 104)
        #expect(events.last?.chainHash == (try store.head().chainHash))
        #expect(sub.statistics.wakeUps >= 1)
    }

    @Test func startsAfterAPositionAndDecodes() async throws {
        let store = try SubKit.open(SubKit.path())
        try await store.append((0..<20).map { SubKit.event(n: $0) })
        let sub = try store.subscribe(after: 15)
        var got: [RecordedEvent] = []
        for try await e in sub.decoded() {
            got.append(e)
            if got.count == 5 { break }
        }
        #expect(got.map(\.position) == [16, 17, 18, 19, 20])
        #expect(got.map { $0.envelope.data["n"]?.intValue } == [15, 16, 17, 18, 19])
        #expect(throws: EventLogError.self) { _ = try store.subscribe(after: 21) }
    }

    @Test func filtersByTenantAndTypePrefix() async throws {
        let store = try SubKit.open(SubKit.path())
        let tenants = ["a", "b", "ab", "q\"u☃\\", "a\u{1}"]
        let types = ["x.one", "x.two", "y.one", "x", "xy.one"]
        var envelopes: [EventEnvelope] = []
        for i in 0..<200 {
            envelopes.append(SubKit.event(tenant: tenants[i % tenants.count], type: types[(i / 3) % types.count], n: i))
        }
        try await store.append(envelopes)
        let filters: [SubscriptionFilter] = [
            .init(tenant: "a"), .init(tenant: "q\"u☃\\"), .init(tenant: "a\u{1}"), .init(typePrefix: "x."),
            .init(typePrefix: "x"), .init(tenant: "ab", typePrefix: "y."), .init(tenant: "nobody"), .init(typePrefix: ""),
        ]
        for filter in filters {
            let expected = envelopes.enumerated().filter { filter.matches($0.element) }.map { UInt64($0.offset + 1) }
            // Add a trailing event that always matches nothing but the empty filter, to end on.
            let sub = try store.subscribe(filter: filter, options: .init(chunkSize: 7, scanLimit: 13))
            var got: [UInt64] = []
            if !expected.isEmpty {
                got = try await SubKit.collect(sub, count: expected.count).map(\.position)
            }
            #expect(got == expected, "filter \(filter)")
            // Everything delivered or skipped up to the head can be acknowledged.
            try await sub.close()
        }
    }

    @Test func acknowledgingAheadOfDeliveryIsAnError() async throws {
        let store = try SubKit.open(SubKit.path())
        try await store.append((0..<5).map { SubKit.event(n: $0) })
        let sub = try store.subscribe(consumer: "ahead", options: .init(chunkSize: 2))
        #expect(throws: EventLogError.self) { try sub.ack(1) }
        let got = try await SubKit.collect(sub, count: 3)
        #expect(got.map(\.position) == [1, 2, 3])
        do {
            try sub.ack(4)
            Issue.record("ack(4) after delivering 3 must throw")
        } catch {
            #expect(error.code == .invalidAcknowledgement)
        }
        try sub.ack(3)
        try sub.ack(2)  // older: ignored
        #expect(sub.acknowledged == 3)
        try await sub.close()
        #expect(try store.consumerCheckpoint("ahead")?.acknowledged == 3)
    }

    @Test func consumerNamesAreValidated() async throws {
        let store = try SubKit.open(SubKit.path())
        for bad in ["", "Upper", "has space", String(repeating: "a", count: 65), "ümlaut", "a/b", "a\u{0}"] {
            do {
                _ = try store.subscribe(consumer: bad)
                Issue.record("\(bad.debugDescription) was accepted")
            } catch let e as EventLogError {
                #expect(e.code == .invalidAcknowledgement)
            }
            #expect(!ConsumerName.isValid(bad))
        }
        for good in ["a", "svc-1.read_model", String(repeating: "z", count: 64), "0"] {
            #expect(ConsumerName.isValid(good))
            _ = try store.subscribe(consumer: good)
        }
    }

    @Test func consumerResumesAfterItsCheckpoint() async throws {
        let path = SubKit.path()
        let store = try SubKit.open(path)
        try await store.append((0..<10).map { SubKit.event(n: $0) })
        do {
            let sub = try store.subscribe(consumer: "reader", options: .init(flushInterval: .seconds(60)))
            let got = try await SubKit.collect(sub, count: 10)
            #expect(got.count == 10)
            try sub.ack(7)
            // Not yet flushed (60 s interval): the store still has no checkpoint.
            #expect(try store.consumerCheckpoint("reader") == nil)
            try await sub.flush()
            #expect(sub.flushedCheckpoint == 7)
            try await sub.close()
        }
        let checkpoint = try #require(try store.consumerCheckpoint("reader"))
        #expect(checkpoint.acknowledged == 7)
        #expect(checkpoint.chainHash == (try store.rawEvents(from: 7, limit: 1)[0].chainHash))
        // The record is canonical JSON with the documented members.
        let record = try JSONParser().parse(checkpoint.record())
        #expect(record.objectValue.map { Set($0.keys) } == ["acknowledged", "chain", "filter", "updated_at", "version"])
        #expect(checkpoint.filter == .all)
        #expect(try CanonicalJSON.serialize(record) == checkpoint.record())

        let again = try store.subscribe(consumer: "reader")
        #expect(again.startPosition == 7)
        #expect(try await SubKit.collect(again, count: 3).map(\.position) == [8, 9, 10])
        #expect(try store.consumers().map(\.name) == ["reader"])
        try await again.close()

        // Reset, and remove.
        try await store.setConsumerCheckpoint("reader", to: 2)
        let third = try store.subscribe(consumer: "reader")
        #expect(third.startPosition == 2)
        try await third.close()
        #expect(try await store.removeConsumer("reader"))
        #expect(try store.consumers().isEmpty)
        await #expect(throws: EventLogError.self) { try await store.setConsumerCheckpoint("reader", to: 11) }
    }

    @Test func acknowledgementsAreFlushedPeriodically() async throws {
        let store = try SubKit.open(SubKit.path())
        try await store.append((0..<100).map { SubKit.event(n: $0) })
        let sub = try store.subscribe(consumer: "periodic", options: .init(flushInterval: .milliseconds(50)))
        var n = 0
        for try await e in sub {
            try sub.ack(e.position)
            n += 1
            if n == 100 { break }
        }
        // No explicit flush: the periodic flush must write the checkpoint (allow a loaded machine time).
        let deadline = ContinuousClock.now + .seconds(60)
        while try store.consumerCheckpoint("periodic")?.acknowledged != 100 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try store.consumerCheckpoint("periodic")?.acknowledged == 100)
        // 100 acknowledgements, far fewer writes.
        #expect(sub.statistics.checkpointWrites <= 3)
    }

    @Test func filteredConsumerMovesPastSkippedEvents() async throws {
        let store = try SubKit.open(SubKit.path())
        try await store.append([SubKit.event(tenant: "mine")] + (0..<9).map { SubKit.event(tenant: "other", n: $0) })
        let sub = try store.subscribe(consumer: "filtered", filter: .init(tenant: "mine"),
                                      options: .init(flushInterval: .milliseconds(10)))
        let reader = Task {
            var got: [UInt64] = []
            for try await e in sub {
                got.append(e.position)
                try sub.ack(e.position)
            }
            return got
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(sub.delivered == 10)
        try await store.append([SubKit.event(tenant: "other")])
        try await Task.sleep(for: .milliseconds(200))
        try await sub.close()
        #expect(try await reader.value == [1])
        #expect(try store.consumerCheckpoint("filtered")?.acknowledged == 11)
    }

    @Test func catchUpStreamsInConstantMemory() async throws {
        let store = try SubKit.open(SubKit.path())
        let total = 50_000
        for b in 0..<(total / 5_000) { try await store.append((0..<5_000).map { SubKit.event(n: b * 5_000 + $0) }) }
        let sub = try store.subscribe(options: .init(chunkSize: 1000))
        var count = 0
        var last: UInt64 = 0
        for try await e in sub {
            #expect(e.position == last + 1)
            last = e.position
            count += 1
            if count == total { break }
        }
        let s = sub.statistics
        #expect(s.maxBufferedEvents <= 1000)
        #expect(s.chunksRead == total / 1000)
        #expect(s.eventsDelivered == total)
    }

    @Test func cancellationAndCloseEndTheSequence() async throws {
        let store = try SubKit.open(SubKit.path())
        let sub = try store.subscribe()
        let task = Task { () -> Int in
            var n = 0
            for try await _ in sub { n += 1 }
            return n
        }
        try await Task.sleep(for: .milliseconds(50))
        task.cancel()
        #expect(try await task.value == 0)

        let sub2 = try store.subscribe()
        let task2 = Task { () -> Int in
            var n = 0
            for try await _ in sub2 { n += 1 }
            return n
        }
        try await Task.sleep(for: .milliseconds(50))
        try await sub2.close()
        #expect(try await task2.value == 0)
    }

    @Test func pollingFallbackStillDelivers() async throws {
        let store = try SubKit.open(SubKit.path())
        let sub = try store.subscribe(options: .init(watch: false))
        #expect(sub.wakeMode == "polling")
        let writer = Task {
            try await Task.sleep(for: .milliseconds(20))
            try await store.append([SubKit.event()])
        }
        #expect(try await SubKit.collect(sub, count: 1).map(\.position) == [1])  // polls every second; the bound only catches a hang
        try await writer.value
    }
}
