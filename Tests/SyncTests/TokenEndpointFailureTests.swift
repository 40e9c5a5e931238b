import EventLog
import Foundation
import GraphSimulator
import Inventory
import Sync
import Testing

/// A wrong or unreachable identity endpoint fails the run in seconds with one `auth_failed`
/// error, with the production retry policy; a token endpoint answering 503 is retried briefly.
@Suite("Graph source: a failing token endpoint", .timeLimit(.minutes(2)))
struct TokenEndpointFailureTests {
    typealias H = GraphHarness

    /// A loopback port nothing listens on: port 1 (tcpmux), which no test binds; an ephemeral port
    /// bound and closed again could be taken by another test's simulator meanwhile.
    static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(1).bigEndian
        let refused = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) != 0 }
        }
        try #require(refused && errno == ECONNREFUSED, "something listens on 127.0.0.1:1")
        return 1
    }

    static func elapsed(_ body: () async throws -> Void) async rethrows -> Double {
        let start = ContinuousClock.now
        try await body()
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    @Test func aRefusedConnectionFailsTheRunInSeconds() async throws {
        let port = try Self.closedPort()
        let dir = NSTemporaryDirectory() + "atlas-token-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try LMDBEventStore.open(path: dir, options: .init(
            create: true, durability: .relaxed, projections: InventoryProjections.all, stateTables: SyncRunner.stateTables))
        // The production options: their retry policy and timeouts.
        let source = GraphSource(credentials: try GraphCredentials(clientID: "app", clientSecret: "a-secret-of-40-characters-0123456789abcd"),
                                 endpoints: try GraphEndpoints(graphBaseURL: "http://127.0.0.1:\(port)", loginBaseURL: "http://127.0.0.1:\(port)"))
        var summary: SyncSummary?
        let seconds = try await Self.elapsed {
            summary = try await SyncRunner(store: store).run(tenant: "contoso", selection: H.selection([H.settingsCatalog, H.compliance]),
                                                             source: source)
        }
        try? await source.shutdown()
        let s = try #require(summary)
        // In this process the run shares the cooperative pool with every test running in
        // parallel, so its time says little under load (the `atlas sync` test below times a
        // process of its own); the token request is tried twice, no more.
        #expect(seconds < 60, "the run took \(seconds) s")
        #expect(s.status == .failed)
        #expect(s.errorCodes == [.authFailed] && s.errors == 1, "\(s)")
        let run = try #require(try InventoryQueries(store: store).run(tenant: "contoso", runID: s.runID))
        let context = run.errorContext.joined(separator: "\n")
        #expect(context.contains("the token endpoint http://127.0.0.1:\(port) could not be reached: connection refused"), "\(context)")
        #expect(context.hasSuffix("(after 2 attempts)"), "\(context)")
        #expect(!context.contains("a-secret-of-40"))
    }

    @Test func atlasSyncWithAnUnreachableLoginURLFailsInSeconds() async throws {
        let port = try Self.closedPort()
        let dir = NSTemporaryDirectory() + "atlas-token-cli-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var ran: AtlasProcess.Ran?
        let seconds = try await Self.elapsed {
            ran = try await AtlasProcess.run(
                ["sync", "--store", dir, "--tenant", "contoso", "--selection", #"{"policy_types":["deviceConfiguration"]}"#,
                 "--login-base-url", "https://127.0.0.1:\(port)"],
                environment: AtlasProcess.environment(["ATLAS_CLIENT_ID": "app", "ATLAS_CLIENT_SECRET": "a-secret-of-40-characters-0123456789abcd"]))
        }
        let r = try #require(ran)
        // Not a speed goal: a client that reconnected until the token request's 30 s timeout
        // would take at least that long; this run gives up after its two attempts.
        #expect(seconds < 30, "atlas sync took \(seconds) s")
        #expect(r.status == 1, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("auth_failed"), "\(r.stdout)")
        let runs = try await AtlasProcess.run(["runs", "--store", dir, "--tenant", "contoso", "--json"])
        #expect(runs.stdout.contains("the token endpoint https://127.0.0.1:\(port) could not be reached: connection refused"), "\(runs.stdout)")
        #expect(runs.stdout.contains("(after 2 attempts)"), "\(runs.stdout)")
    }

    @Test func invalidClientFailsAtOnce() async throws {
        try await H.with(items: 5, retry: RetryPolicy(), secret: "wrong-secret-\(UUID().uuidString)") { h in
            var summary: SyncSummary?
            let seconds = try await Self.elapsed { summary = try await h.sync([H.settingsCatalog, H.compliance]) }
            let s = try #require(summary)
            #expect(seconds < 30, "the run took \(seconds) s")  // loose: tests run in parallel in this process
            #expect(s.status == .failed && s.errorCodes == [.authFailed])
            #expect(h.tokenRequests.count == 1, "a refusal is not retried")
        }
    }

    @Test func a503FromTheTokenEndpointIsRetriedBriefly() async throws {
        // Production policy: answered 503 every time, the run fails after a bounded retry.
        try await H.with(items: 5, retry: RetryPolicy()) { h in
            h.simulator.addFault(tenant: H.tenant, path: GraphSimulator.tokenFaultPath, .init(.status(503), times: nil))
            var summary: SyncSummary?
            let seconds = try await Self.elapsed { summary = try await h.sync([H.settingsCatalog]) }
            let s = try #require(summary)
            #expect(seconds < 45, "the run took \(seconds) s")  // waits of at most 5 s, 20 s in all
            #expect(s.status == .failed && s.errorCodes == [.authFailed])
            #expect(h.tokenRequests.count == 4, "\(h.tokenRequests.count) token requests")
        }
        // Once, then the token comes: the run succeeds.
        try await H.with(items: 5) { h in
            h.simulator.addFault(tenant: H.tenant, path: GraphSimulator.tokenFaultPath, .init(.status(503), times: 1))
            let s = try await h.sync([H.settingsCatalog])
            #expect(s.status == .success && s.observed == 5)
            #expect(h.tokenRequests.count == 2)
        }
    }
}
