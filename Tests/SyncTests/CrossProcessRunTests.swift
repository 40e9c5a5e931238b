import AtlasTesting
import CanonicalJSON
import EventLog
import Foundation
import GraphSimulator
import Inventory
import Sync
import Testing

/// Run locks, abandoned runs and the concurrency limiter across real `atlas` processes, against
/// the Graph simulator over loopback HTTP.
@Suite(.serialized) struct CrossProcessRunTests {
    static let selection = #"{"policy_types":["deviceConfiguration","deviceCompliancePolicy"]}"#
    static let secret = "cross-process-secret-0123456789"

    /// The built `atlas` executable beside the test bundle.
    static var atlasBinary: String {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("atlas").path) && dir.path != "/" {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("atlas").path
    }

    struct Env {
        let simulator: GraphSimulator
        let base: String
        let dir: String
        /// An LMDB directory in `dir`, or a PostgreSQL URL.
        let store: String
    }

    /// A simulator for `tenants` and an empty store: LMDB, or with `postgres` a fresh database
    /// of the test cluster.
    static func start(tenants: [String], slowSeconds: Double?, postgres: Bool = false) async throws -> Env {
        var seed = SimulatorSeed.generate(tenants: tenants, itemsPerCollection: 20, seed: 3)
        seed = SimulatorSeed(tenants: seed.tenants.map {
            SimulatedTenant(id: $0.id, clientID: "atlas-test", clientSecret: secret, collections: $0.collections)
        })
        let sim = GraphSimulator(seed: seed)
        let base = try await sim.start()
        if let slowSeconds {
            for t in tenants {
                _ = sim.addFault(tenant: t, path: PolicyTypeRegistry.type("deviceConfiguration")!.versionedPath,
                                 SimulatedFault(.slow(seconds: slowSeconds), times: nil))
            }
        }
        let dir = NSTemporaryDirectory() + "atlas-xproc-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let store = postgres ? try await PostgresTestCluster.shared().createDatabase("xrun") : dir + "/store"
        return Env(simulator: sim, base: base, dir: dir, store: store)
    }

    static func atlas(_ env: Env, _ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: atlasBinary)
        p.arguments = args + ["--store", env.store, "--graph-base-url", env.base, "--login-base-url", env.base]
        var environment = ProcessInfo.processInfo.environment
        environment["ATLAS_CLIENT_ID"] = "atlas-test"
        environment["ATLAS_CLIENT_SECRET"] = secret
        p.environment = environment
        p.standardOutput = Pipe()
        p.standardError = Pipe()
        try p.run()
        return p
    }

    static func output(_ p: Process) -> (String, String) {
        let out = (p.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile()
        let err = (p.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    /// Waits until `tenant` has a run with status `running` in the store.
    static func waitForLiveRun(_ env: Env, tenant: String, timeout: Double = 60) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if env.store.hasPrefix("postgres") {
                let r = try await AtlasProcess.run(["runs", "--tenant", tenant, "--json", "--store", env.store])
                if r.status == 0, r.stdout.contains(#""status":"running""#) { return }
            } else if FileManager.default.fileExists(atPath: env.store + "/data.mdb"),
               let s = try? LMDBEventStore.open(path: env.store, options: .init(projections: InventoryProjections.all, stateTables: SyncRunner.stateTables)),
               try InventoryQueries(store: s).runs(tenant: tenant).contains(where: { $0.status == .running }) {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("no live run of \(tenant) within \(timeout) s")
    }

    static func summary(_ stdout: String) throws -> JSONValue {
        let line = stdout.split(separator: "\n").last.map(String.init) ?? ""
        return try JSONParser().parse(line)
    }

    @Test(arguments: [false, true])
    func secondProcessOfSameTenantAndSelectionIsSkippedWithLockHeld(postgres: Bool) async throws {
        let env = try await Self.start(tenants: ["contoso"], slowSeconds: 1.5, postgres: postgres)
        defer { Task { await env.simulator.stop() } }
        let first = try Self.atlas(env, ["sync", "--tenant", "contoso", "--selection", Self.selection, "--json"])
        try await Self.waitForLiveRun(env, tenant: "contoso")
        let second = try Self.atlas(env, ["sync", "--tenant", "contoso", "--selection", Self.selection, "--json"])
        let (out2, err2) = Self.output(second)
        let (out1, err1) = Self.output(first)
        #expect(try Self.summary(out2)["status"] == "skipped", "\(out2) \(err2)")
        #expect(try Self.summary(out2)["error_codes"] == ["lock_held"])
        let skipLog = err2.split(separator: "\n").first { $0.contains("run skipped") }.map(String.init) ?? ""
        #expect(skipLog.contains("notice") && skipLog.contains("code=lock_held") && skipLog.contains("holds the lock"),
                "the skip is logged at the default level with its reason: \(err2)")
        #expect(try Self.summary(out1)["status"] == "success", "\(out1) \(err1)")
    }

    @Test func killedRunIsLaterFinishedAsAbandonedAndANewRunProceeds() async throws {
        let env = try await Self.start(tenants: ["contoso"], slowSeconds: 30)
        defer { Task { await env.simulator.stop() } }
        let victim = try Self.atlas(env, ["sync", "--tenant", "contoso", "--selection", Self.selection, "--json"])
        try await Self.waitForLiveRun(env, tenant: "contoso")
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        _ = env.simulator.clearFaults()
        let next = try Self.atlas(env, ["sync", "--tenant", "contoso", "--selection", Self.selection, "--json"])
        let (out, err) = Self.output(next)
        #expect(try Self.summary(out)["status"] == "success", "\(out) \(err)")
        let takeover = err.split(separator: "\n").first { $0.contains("reclaimed a dead run") }.map(String.init) ?? ""
        #expect(takeover.contains("notice") && takeover.contains("pid=\(victim.processIdentifier)"),
                "the lease takeover is logged at the default level: \(err)")
        let store = try LMDBEventStore.open(path: env.store, options: .init(projections: InventoryProjections.all, stateTables: SyncRunner.stateTables))
        let runs = try InventoryQueries(store: store).runs(tenant: "contoso")
        #expect(runs.count == 2)
        let dead = runs.first { $0.runID != (try? Self.summary(out)["run_id"]?.stringValue) }
        #expect(dead?.status == .failed)
        #expect(dead?.errorCodes == [.abandoned])
    }

    @Test func globalLimitHoldsAcrossProcesses() async throws {
        let env = try await Self.start(tenants: ["contoso", "fabrikam"], slowSeconds: 1.5)
        defer { Task { await env.simulator.stop() } }
        let first = try Self.atlas(env, ["sync", "--tenant", "contoso", "--selection", Self.selection, "--json", "--global-limit", "1"])
        try await Self.waitForLiveRun(env, tenant: "contoso")
        let other = try Self.atlas(env, ["sync", "--tenant", "fabrikam", "--selection", Self.selection, "--json", "--global-limit", "1"])
        let (out2, _) = Self.output(other)
        #expect(try Self.summary(out2)["error_codes"] == ["concurrency_limit_global"])
        let waiting = try Self.atlas(env, ["sync", "--tenant", "fabrikam", "--selection", Self.selection, "--json", "--global-limit", "1", "--wait"])
        let (out1, _) = Self.output(first)
        #expect(try Self.summary(out1)["status"] == "success")
        let (out3, err3) = Self.output(waiting)
        #expect(try Self.summary(out3)["status"] == "success", "\(out3) \(err3)")
    }
}
