import CanonicalJSON
import EventLog
import EventLogPostgres
import Foundation
import GraphSimulator
import Inventory
import Sync
import Testing

/// Limits queue within one process; only other processes' runs make a run wait or skip. Real
/// `atlas` processes against the Graph simulator over loopback HTTP. (In the serialized suite:
/// its tests block a thread reading a child's output while the simulator serves it.)
extension CrossProcessRunTests {
    typealias X = CrossProcessRunTests

    static func allRuns(_ env: X.Env, tenants: [String]) throws -> [SyncRun] {
        let store: any EventStore = env.store.hasPrefix("postgres")
            ? try PostgresEventStore.open(url: env.store, options: .init(readOnly: true, projections: InventoryProjections.all))
            : try LMDBEventStore.open(path: env.store, options: .init(projections: InventoryProjections.all,
                                                                      stateTables: SyncRunner.stateTables))
        let queries = InventoryQueries(store: store)
        return try tenants.flatMap { try queries.runs(tenant: $0) }
    }

    /// The most runs live at once, from the log positions of their start and finish events (a
    /// run's start event is appended with its lease, its finish event with the release).
    static func mostAtOnce(_ runs: [SyncRun]) -> Int {
        var edges: [(UInt64, Int)] = []
        for r in runs {
            if let s = r.startedPosition { edges.append((s, 1)) }
            if let f = r.finishedPosition { edges.append((f, -1)) }
        }
        var live = 0
        var most = 0
        for (_, d) in edges.sorted(by: { $0.0 < $1.0 }) {
            live += d
            most = max(most, live)
        }
        return most
    }

    @Test func twentyTenantsInOneProcessQueueUnderTheGlobalLimit() async throws {
        let tenants = (1...20).map { "tenant\($0).example" }
        let env = try await X.start(tenants: tenants, slowSeconds: 0.3)
        defer { Task { await env.simulator.stop() } }
        let file = env.dir + "/tenants.txt"
        try ("# twenty tenants\n" + tenants.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let p = try X.atlas(env, ["sync", "--tenants-file", file, "--selection", X.selection, "--json", "--global-limit", "4"])
        let (out, err) = X.output(p)
        #expect(p.terminationStatus == 0, "\(err)")
        let summaries = try out.split(separator: "\n").map { try JSONParser().parse(String($0)) }
        #expect(summaries.count == 20)
        #expect(summaries.allSatisfy { $0["status"] == "success" }, "\(out)")
        let runs = try Self.allRuns(env, tenants: tenants)
        #expect(runs.count == 20)
        #expect(runs.allSatisfy { $0.status == .success && $0.errorCodes.isEmpty })
        // Every run reads a slow collection, so the first four overlap; none beyond four.
        #expect(Self.mostAtOnce(runs) == 4)
    }

    @Test(arguments: [false, true])
    func waitWaitsForALockHeldByAnotherProcess(postgres: Bool) async throws {
        let env = try await X.start(tenants: ["contoso"], slowSeconds: 1.5, postgres: postgres)
        defer { Task { await env.simulator.stop() } }
        let first = try X.atlas(env, ["sync", "--tenant", "contoso", "--selection", X.selection, "--json"])
        try await X.waitForLiveRun(env, tenant: "contoso")
        let second = try X.atlas(env, ["sync", "--tenant", "contoso", "--selection", X.selection, "--json", "--wait"])
        let (out2, err2) = X.output(second)
        let (out1, err1) = X.output(first)
        #expect(try X.summary(out1)["status"] == "success", "\(out1) \(err1)")
        #expect(try X.summary(out2)["status"] == "success", "\(out2) \(err2)")
        // The waiting run started only after the holder finished.
        let runs = try Self.allRuns(env, tenants: ["contoso"])
        #expect(runs.count == 2)
        #expect(Self.mostAtOnce(runs) == 1)
    }

    @Test func waitTimeoutExpiresAndTheRunIsSkippedSayingWhy() async throws {
        let env = try await X.start(tenants: ["contoso"], slowSeconds: 30)
        defer { Task { await env.simulator.stop() } }
        let holder = try X.atlas(env, ["sync", "--tenant", "contoso", "--selection", X.selection, "--json"])
        defer { kill(holder.processIdentifier, SIGKILL) }
        try await X.waitForLiveRun(env, tenant: "contoso")
        let started = Date()
        let waiter = try X.atlas(env, ["sync", "--tenant", "contoso", "--selection", X.selection, "--json", "--wait-timeout", "1"])
        let (out, err) = X.output(waiter)
        let elapsed = Date().timeIntervalSince(started)
        #expect(waiter.terminationStatus == 0, "\(err)")
        let summary = try X.summary(out)
        #expect(summary["status"] == "skipped", "\(out) \(err)")
        #expect(summary["error_codes"] == ["lock_held"])
        #expect(elapsed >= 1 && elapsed < 20)
        let skipped = try #require(try Self.allRuns(env, tenants: ["contoso"]).first { $0.runID == summary["run_id"]?.stringValue })
        #expect(skipped.errorContext.contains { $0.contains("holds the lock") && $0.contains("gave up after waiting") })
    }
}
