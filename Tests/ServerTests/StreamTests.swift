import AtlasServer
import CanonicalJSON
import EventLog
import Foundation
import Inventory
import Testing

/// `/api/v1/events` over real HTTP: resumption, heartbeats, filters and the export line format.
@Suite(.serialized) struct StreamTests {
    @Test func resumesAfterADroppedConnectionWithoutAGap() async throws {
        let f = try ServerFixture()
        try await f.sync("contoso.com", ["a1", "a2", "a3"])
        let admin = try await f.token("admin")
        let (server, base) = try await f.startServer()
        defer { Task { await server.stop() } }
        // First connection: read five events, then drop it.
        let first = try await SSEReader.collect(base + "/api/v1/events", token: admin) { e, _ in e.count == 5 }.events
        #expect(first.map(\.id) == [1, 2, 3, 4, 5])
        // Events are appended while no one is connected (a second process, the real CLI).
        try await f.sync("contoso.com", ["a1", "a4"])
        let head = try f.readOnlyStore().head().position
        // Second connection resumes after the last id seen.
        let rest = try await SSEReader.collect(base + "/api/v1/events", token: admin, lastEventID: 5) { e, _ in e.last?.id == head }.events
        #expect(rest.first?.id == 6)
        let ids = (first + rest).map(\.id)
        #expect(ids == Array(1...head), "positions are gapless and in order")
        // `?from=` resumes the same way; each data line is the export line of its position.
        let viaFrom = try await SSEReader.collect(base + "/api/v1/events?from=5", token: admin) { e, _ in e.last?.id == head }.events
        #expect(viaFrom == rest)
        let raws = try f.readOnlyStore().rawEvents(from: 1, limit: Int(head))
        #expect((first + rest).map(\.data) == raws.map { String(decoding: $0.exportLine, as: UTF8.self) })
        let line = try JSONParser().parse(rest[0].data)
        #expect(line["position"]?.int64Value == 6)
        #expect(line["chain"]?.stringValue?.count == 64)
        #expect(line["envelope"]?["type"]?.stringValue != nil)
    }

    @Test func followsNewEventsFiltersAndSendsHeartbeats() async throws {
        let f = try ServerFixture()
        try await f.sync("contoso.com", ["a1"])
        let admin = try await f.token("admin")
        let (server, base) = try await f.startServer(heartbeat: .milliseconds(200))
        defer { Task { await server.stop() } }
        let head = try f.readOnlyStore().head().position
        // A follower at the head waits; a sync appends; the follower sees only the finish events
        // of fabrikam.com, and heartbeats while it waits.
        async let followed = SSEReader.collect(base + "/api/v1/events?from=\(head)&tenant=fabrikam.com&type=inventory.sync_run_fin",
                                               token: admin) { e, c in !e.isEmpty && c.count >= 2 }
        try await Task.sleep(for: .milliseconds(300))
        try await f.sync("fabrikam.com", ["b1", "b2"])
        let (status, events, comments) = try await followed
        #expect(status == 200)
        #expect(events.count == 1)
        #expect(events.first.map { $0.id > head } == true)
        #expect(events.first?.data.contains(#""type":"inventory.sync_run_finished""#) == true)
        #expect(events.first?.data.contains(#""tenant":"fabrikam.com""#) == true)
        #expect(comments.contains(": heartbeat"))
    }

    @Test func followersOfTheWholeLogShareChunksAndStillGetEveryEventOnce() async throws {
        let f = try ServerFixture()
        try await f.sync("contoso.com", ["a1", "a2", "a3", "a4", "a5"])
        try await f.sync("fabrikam.com", ["b1", "b2", "b3"])
        let admin = try await f.token("admin")
        // Chunks of 3 events: the followers read and share many full chunks, then a partial one.
        let (server, base) = try await f.startServer(streamChunk: 3)
        defer { Task { await server.stop() } }
        let raws = try f.readOnlyStore().rawEvents(from: 1, limit: 10_000)
        let head = try #require(raws.last?.position)
        let expected = raws.map { SSEReader.Event(id: $0.position, data: String(decoding: $0.exportLine, as: UTF8.self)) }
        async let a = SSEReader.collect(base + "/api/v1/events", token: admin) { e, _ in e.last?.id == head }
        async let b = SSEReader.collect(base + "/api/v1/events", token: admin) { e, _ in e.last?.id == head }
        let c = try await SSEReader.collect(base + "/api/v1/events?from=4", token: admin) { e, _ in e.last?.id == head }
        #expect(try await a.events == expected)
        #expect(try await b.events == expected)
        #expect(c.events == Array(expected.dropFirst(4)))
        // A filtered follower reads for itself and gets only its events, in order.
        let fabrikam = expected.filter { $0.data.contains(#""tenant":"fabrikam.com""#) }
        let only = try await SSEReader.collect(base + "/api/v1/events?tenant=fabrikam.com", token: admin) { e, _ in e.count >= fabrikam.count }
        #expect(only.events == fabrikam)
    }

    @Test func aRevokedTokenLosesAccessAtOnce() async throws {
        let f = try ServerFixture()
        try await f.sync("contoso.com", ["a1"])
        let token = try await f.token("ops")
        let (server, base) = try await f.startServer()
        defer { Task { await server.stop() } }
        #expect(try await HTTP.get(base + "/api/v1/tenants", token: token).status == 200)
        try await f.atlas(["token", "revoke", "ops"])
        #expect(try await HTTP.get(base + "/api/v1/tenants", token: token).status == 401)
        #expect(try await HTTP.get(base + "/api/v1/events", token: token).status == 401)
    }
}
