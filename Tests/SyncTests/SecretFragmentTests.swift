import CanonicalJSON
import Foundation
import GraphSimulator
import Inventory
import Sync
import Testing

/// No fragment of the client secret leaves a real `atlas` process: not when the identity
/// platform or Graph quotes it after a long text (a cut before redaction would keep most of
/// it), not in the store's files, `runs --json`, stdout or stderr. Core dumps are off while
/// the secret is in memory.
@Suite(.serialized) struct SecretFragmentTests {
    static let selection = #"{"policy_types":["deviceConfiguration","deviceCompliancePolicy"]}"#

    struct Env {
        let simulator: GraphSimulator
        let base: String
        let dir: String
        let secret: String
        var store: String { dir + "/store" }

        func atlas(_ args: [String]) throws -> Process {
            let urls = args.first == "sync" ? ["--graph-base-url", base, "--login-base-url", base] : []
            return try AtlasProcess.start(args + ["--store", store] + urls,
                                   environment: AtlasProcess.environment(["ATLAS_CLIENT_ID": "atlas-test", "ATLAS_CLIENT_SECRET": secret]))
        }

        func close() async {
            await simulator.stop()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    /// A 50-character secret, different each time.
    static func makeSecret() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-")
        return String((0..<50).map { _ in alphabet.randomElement()! })
    }

    static func start() async throws -> Env {
        let secret = makeSecret()
        var seed = SimulatorSeed.generate(tenants: ["contoso"], itemsPerCollection: 5, seed: 5)
        seed = SimulatorSeed(tenants: seed.tenants.map {
            SimulatedTenant(id: $0.id, clientID: "atlas-test", clientSecret: secret, collections: $0.collections)
        })
        let sim = GraphSimulator(seed: seed)
        let base = try await sim.start()
        let dir = NSTemporaryDirectory() + "atlas-secret-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return Env(simulator: sim, base: base, dir: dir, secret: secret)
    }

    /// About 260 characters of text, then the secret: the shape that used to leave 41 of its
    /// 50 characters after a cut at 300.
    static func quoting(_ secret: String) -> String {
        String(repeating: "AADSTS7000215: Invalid client secret provided. ", count: 6).prefix(260) + secret + " (trace 1f2e)"
    }

    /// Every file of the store, concatenated.
    static func storeBytes(_ env: Env) throws -> Data {
        var all = Data()
        for name in try FileManager.default.contentsOfDirectory(atPath: env.store) {
            all += try Data(contentsOf: URL(fileURLWithPath: env.store + "/" + name))
        }
        return all
    }

    @Test func anIdentityEndpointQuotingTheSecretAfterLongTextLeavesNoFragment() async throws {
        let env = try await Self.start()
        let fault = SimulatedFault(.reply(status: 401, body: ["error": "invalid_client", "error_description": .string(Self.quoting(env.secret))]),
                                   times: nil)
        _ = env.simulator.addFault(tenant: "contoso", path: GraphSimulator.tokenFaultPath, fault)
        let sync = await AtlasProcess.finish(try env.atlas(["sync", "--tenant", "contoso", "--selection", Self.selection, "--json"]))
        let runs = await AtlasProcess.finish(try env.atlas(["runs", "--tenant", "contoso", "--json"]))
        #expect(runs.status == 0, "\(runs.stderr)")
        let store = try Self.storeBytes(env)
        await env.close()
        #expect(sync.status == 1, "\(sync.stderr)")
        let summary = try JSONParser().parse(sync.stdout.split(separator: "\n").last.map(String.init) ?? "")
        #expect(summary["status"] == "failed")
        #expect(summary["errors"] == 1, "one authentication error for the run, not one per type: \(sync.stdout)")
        #expect(summary["error_codes"] == ["auth_failed"])
        #expect(runs.stdout.contains("AADSTS7000215"), "the endpoint's message is kept, redacted: \(runs.stdout)")
        #expect(runs.stdout.contains(Redactor.placeholder))
        for (name, data) in [("sync output", sync.output), ("runs --json", runs.output), ("store files", store)] {
            #expect(!data.containsFragment(of: env.secret), "\(name) holds a piece of the secret")
        }
        #expect(env.simulator.requests().allSatisfy { $0.method == "POST" }, "no type was attempted after the refusal")
    }

    @Test func graphQuotingTheSecretAfterLongTextLeavesNoFragment() async throws {
        let env = try await Self.start()
        let message = JSONValue.string(Self.quoting(env.secret))
        _ = env.simulator.addFault(tenant: "contoso", path: PolicyTypeRegistry.type("deviceConfiguration")!.versionedPath,
                                   SimulatedFault(.reply(status: 403, body: ["error": ["code": "Forbidden", "message": message]]), times: nil))
        let sync = await AtlasProcess.finish(try env.atlas(["sync", "--tenant", "contoso", "--selection", Self.selection, "--json"]))
        let runs = await AtlasProcess.finish(try env.atlas(["runs", "--tenant", "contoso", "--json"]))
        #expect(runs.status == 0, "\(runs.stderr)")
        let store = try Self.storeBytes(env)
        await env.close()
        #expect(sync.status == 0 && sync.stdout.contains(#""status":"partial""#), "\(sync.stdout) \(sync.stderr)")
        #expect(runs.stdout.contains("graph_forbidden"))
        for (name, data) in [("sync output", sync.output), ("runs --json", runs.output), ("store files", store)] {
            #expect(!data.containsFragment(of: env.secret), "\(name) holds a piece of the secret")
        }
    }

    /// While a sync holds the secret, the process writes no core file.
    @Test func coreDumpsAreOffWhileASyncRuns() async throws {
        let env = try await Self.start()
        _ = env.simulator.addFault(tenant: "contoso", path: PolicyTypeRegistry.type("deviceConfiguration")!.versionedPath,
                                   SimulatedFault(.slow(seconds: 1.5), times: nil))
        let p = try env.atlas(["sync", "--tenant", "contoso", "--selection", Self.selection, "--json"])
        var limit: String?
        let deadline = Date().addingTimeInterval(20)
        while p.isRunning && Date() < deadline {
            // The simulator has seen a request only once credentials are loaded.
            if !env.simulator.requests().isEmpty,
               let text = try? String(contentsOfFile: "/proc/\(p.processIdentifier)/limits", encoding: .utf8),
               let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Max core file size") }) {
                limit = String(line)
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let ran = await AtlasProcess.finish(p)
        await env.close()
        #expect(ran.status == 0, "\(ran.stderr)")
        let fields = try #require(limit, "the sync ended before its limits were read").split(separator: " ")
        #expect(fields.suffix(3).prefix(2) == ["0", "0"], "soft and hard core limits: \(limit ?? "")")
    }
}
