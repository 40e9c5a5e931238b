import EventLog
import Foundation
import Testing

/// The example of the module's documentation (EventLog.docc/EventLog.md), run as written: it
/// must keep compiling and doing what the page says.
@Suite struct DocumentationExampleTests {
    @Test func overviewExampleAppendsAndFollows() async throws {
        let path = SubKit.path("atlas-store")
        let store = try LMDBEventStore.open(path: path, options: .init(create: true))
        let appended = try await store.append([
            EventEnvelope(type: "example_recorded", tenant: "contoso", data: ["note": "hello"]),
        ])
        #expect(appended.head.position == 1)
        #expect(appended.head.chainHash == (try store.head().chainHash))

        let subscription = try store.subscribe(consumer: "billing")
        var seen: [(UInt64, String)] = []
        for try await event in subscription {
            seen.append((event.position, try event.decode().envelope.type))
            try subscription.ack(event.position)
            break
        }
        try await subscription.close()
        #expect(seen.map(\.0) == [1] && seen.map(\.1) == ["example_recorded"])
        // The acknowledgement is durable: the consumer resumes after it.
        let again = try store.subscribe(consumer: "billing")
        #expect(try store.consumerCheckpoint("billing")?.acknowledged == 1)
        try await again.close()
    }
}
