import CanonicalJSON
import Foundation
import GraphSimulator
import Inventory
import Testing

/// `--log-level`: a real `atlas sync` against the Graph simulator logs its retries, throttling
/// waits and token refreshes on stderr at `info`, counts them in `--json`, logs nothing at
/// `info` by default, and never writes the client secret or an access token, even at `trace`.
@Suite(.serialized) struct SyncLoggingTests {
    static let selection = SecretFragmentTests.selection
    static let configPath = PolicyTypeRegistry.type("deviceConfiguration")!.versionedPath

    /// Syncs with one throttled page of deviceConfiguration (Retry-After 0.3) and `extra` arguments;
    /// returns what atlas printed, its parsed summary and every access token the simulator saw.
    static func throttledSync(_ extra: [String], unauthorizedOnce: Bool = false)
        async throws -> (ran: AtlasProcess.Ran, summary: JSONValue, secret: String, tokens: Set<String>) {
        let env = try await SecretFragmentTests.start()
        _ = env.simulator.addFault(tenant: "contoso", path: configPath, SimulatedFault(.status(429, retryAfter: "0.3"), times: 1))
        if unauthorizedOnce {
            _ = env.simulator.addFault(tenant: "contoso", path: PolicyTypeRegistry.type("deviceCompliancePolicy")!.versionedPath,
                                       SimulatedFault(.unauthorized, times: 1))
        }
        let ran = await AtlasProcess.finish(try env.atlas(["sync", "--tenant", "contoso", "--selection", selection, "--json"] + extra))
        let tokens = Set(env.simulator.requests().compactMap(\.authorization).map { String($0.dropFirst("Bearer ".count)) })
        await env.close()
        let summary = try JSONParser().parse(ran.stdout.split(separator: "\n").last.map(String.init) ?? "")
        return (ran, summary, env.secret, tokens)
    }

    @Test func aThrottledPageIsLoggedAtInfoWithItsRetryAfterAndCountedInJSON() async throws {
        let (ran, summary, _, _) = try await Self.throttledSync(["--log-level", "info"])
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(summary["status"] == "success", "\(ran.stdout)")
        let throttled = ran.stderr.split(separator: "\n").filter { $0.contains("throttled") }
        #expect(throttled.count == 1, "\(ran.stderr)")
        let line = String(throttled.first ?? "")
        #expect(line.contains("info") && line.contains("retry_after=0.3") && line.contains("status=429")
                && line.contains("attempt=1") && line.contains("policy_type=deviceConfiguration")
                && line.contains("delay_seconds=0.3"), "\(line)")
        #expect(ran.stderr.contains("access token obtained"), "\(ran.stderr)")
        #expect((summary["retries"]?.intValue ?? 0) >= 1, "\(ran.stdout)")
        #expect((summary["throttled_seconds"]?.doubleValue ?? 0) >= 0.3, "\(ran.stdout)")
        #expect((summary["duration_seconds"]?.doubleValue ?? 0) >= 0.3, "\(ran.stdout)")
    }

    @Test func theDefaultLevelLogsNothingAtInfoButStillCounts() async throws {
        let (ran, summary, _, _) = try await Self.throttledSync([])
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(!ran.stderr.contains(" info "), "\(ran.stderr)")
        #expect(!ran.stderr.contains("throttled"), "\(ran.stderr)")
        #expect(summary["retries"] == 1, "\(ran.stdout)")
        #expect((summary["throttled_seconds"]?.doubleValue ?? 0) >= 0.3, "\(ran.stdout)")
    }

    @Test func traceLogsATokenRefreshButNeverTheSecretOrAToken() async throws {
        let (ran, summary, secret, tokens) = try await Self.throttledSync(["--log-level", "trace"], unauthorizedOnce: true)
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(summary["status"] == "success", "\(ran.stdout)")
        #expect(ran.stderr.contains("Graph refused the access token (401)"), "\(ran.stderr)")
        #expect(ran.stderr.contains("refreshing the access token"), "\(ran.stderr)")
        #expect(tokens.count >= 2, "the 401 made atlas fetch a second token: \(tokens.count)")
        let stderr = Data(ran.stderr.utf8)
        #expect(!stderr.containsFragment(of: secret), "stderr holds a piece of the client secret")
        for token in tokens { #expect(!stderr.containsFragment(of: token), "stderr holds a piece of an access token") }
    }

    @Test func atlasReplayAcceptsAValidLevel() async throws {
        let ran = try await AtlasProcess.run(["stats", "--store", NSTemporaryDirectory() + "absent-\(UUID().uuidString)", "--log-level", "debug"],
                                             binary: AtlasProcess.replayBinary)
        #expect(ran.status == 2, "a missing store is still the usage error, not the option: \(ran.stderr)")
        #expect(!ran.stderr.contains("--log-level"), "\(ran.stderr)")
    }

    @Test func anOfflineRunReportsNoRetriesAndNoThrottling() async throws {
        let dir = NSTemporaryDirectory() + "atlas-log-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/export.ndjson"
        FileManager.default.createFile(atPath: file, contents: Data(#"{"policy_type": "deviceConfiguration", "enumerated": {"count": 0}}"#.utf8 + [10]))
        let ran = try await AtlasProcess.run(["sync", "--store", dir + "/store", "--tenant", "contoso", "--json", "--log-level", "info",
                                              "--selection", #"{"policy_types":["deviceConfiguration"]}"#, "--from-file", file])
        #expect(ran.status == 0, "\(ran.stderr)")
        let summary = try JSONParser().parse(ran.stdout.split(separator: "\n").last.map(String.init) ?? "")
        #expect(summary["status"] == "success", "\(ran.stdout)")
        #expect(summary["retries"] == 0 && summary["throttled_seconds"] == 0, "\(ran.stdout)")
        #expect(summary["duration_seconds"]?.doubleValue != nil, "\(ran.stdout)")
    }

    @Test(arguments: [["sync", "--tenant", "contoso", "--selection", "{}"], ["runs"], ["selection", "hash", "--selection", "{}"],
                      ["replay:verify"], ["replay:stats"], ["replay:as-of", "runs", "--tenant", "contoso"]])
    func anInvalidLogLevelIsAUsageErrorNamingTheValidOnes(args: [String]) async throws {
        let replay = args[0].hasPrefix("replay:")
        let command = replay ? [String(args[0].dropFirst("replay:".count))] + args.dropFirst() : args
        let ran = try await AtlasProcess.run(command + ["--log-level", "loud"],
                                             binary: replay ? AtlasProcess.replayBinary : CrossProcessRunTests.atlasBinary)
        #expect(ran.status == 2, "\(ran.stderr)")
        #expect(ran.stderr.contains("loud"), "\(ran.stderr)")
        for level in ["trace", "debug", "info", "notice", "warning", "error", "critical"] {
            #expect(ran.stderr.contains("- \(level)\n"), "\(level) is not named: \(ran.stderr)")
        }
    }
}
