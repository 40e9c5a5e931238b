import AtlasServer
import AtlasTesting
import Foundation
import Testing

/// `atlas serve` over a PostgreSQL store, as a real process against the tests' PostgreSQL.
@Suite(.serialized) struct PostgresServeTests {
    /// The API answers what the CLI prints for the same store, scopes hold, and the event
    /// stream delivers the whole log (the lines `atlas-replay export` writes) and then, to a
    /// follower at the head, what a new sync appends.
    @Test func servesAPostgreSQLStore() async throws {
        let url = try await PostgresTestCluster.shared().createDatabase("serve")
        let (f, admin, scoped) = try await APITests.fixture(store: url)
        let p = try ServerFixture.start(["serve", "--store", url, "--port", "0"])
        defer { kill(p.processIdentifier, SIGTERM) }
        let line = await ProcessTests.firstLine(p)
        #expect(line.hasPrefix("listening on http://127.0.0.1:"))
        let base = String(line.dropFirst("listening on ".count))

        try await APITests.expectSameJSONAsTheCLI(f, base: base, admin: admin)
        let seen = try await HTTP.get(base + "/api/v1/tenants", token: scoped)
        #expect(seen.status == 200)
        #expect(seen.text.contains("contoso.com") && !seen.text.contains("fabrikam.com"))
        #expect(try await HTTP.get(base + "/api/v1/tenants/fabrikam.com/runs", token: scoped).status == 404)

        let head = try #require(try await HTTP.get(base + "/api/v1/head", token: admin).json?["position"]?.int64Value)
        let all = try await SSEReader.collect(base + "/api/v1/events", token: admin) { events, _ in
            events.last?.id == UInt64(head)
        }
        #expect(all.events.map(\.id) == Array(1...UInt64(head)))
        let export = try await Self.replay(["export", "--store", url])
        #expect(all.events.map(\.data) == export.split(separator: "\n").map(String.init))

        let follower = Task {
            try await SSEReader.collect(base + "/api/v1/events", token: admin, lastEventID: UInt64(head), timeout: .seconds(60)) { events, _ in
                events.contains { $0.data.contains(#""type":"inventory.sync_run_finished""#) }
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        try await f.sync("northwind.com", ["c1", "c2"])
        let followed = try await follower.value.events
        let last = try #require(followed.last?.id)
        #expect(followed.map(\.id) == Array((UInt64(head) + 1)...last), "no gap, no repeat after the head")
        #expect(followed.allSatisfy { $0.data.contains(#""tenant":"northwind.com""#) })
    }

    /// `atlas-replay ARGS`, which must succeed; its stdout.
    static func replay(_ args: [String]) async throws -> String {
        let r = try await ServerFixture.run(args, executable: ServerFixture.atlasBinary + "-replay")
        guard r.status == 0 else { throw Failure("atlas-replay \(args.joined(separator: " ")) exited \(r.status): \(r.stderr)") }
        return r.stdout
    }
}
