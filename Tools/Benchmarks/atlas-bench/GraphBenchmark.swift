import CanonicalJSON
import EventLog
import Foundation
import GraphSimulator
import Inventory
import Sync

/// `atlas-bench graph [--tenants 50] [--items 2000] [--page-size 100]`
///
/// Syncs N simulated tenants × M items each concurrently through the Graph simulator (real HTTP
/// on loopback, token endpoint, paging) into one store, and prints items/s, commits/s (group
/// commit at work: many runs share each commit) and the process's peak memory.
enum GraphBenchmark {
    static let usage = "graph [--tenants 50] [--items 2000] [--page-size 100]"

    static func run(_ args: [String]) async throws -> Int32 {
        let tenantCount = Bench.option(args, "tenants", default: 50)
        let items = Bench.option(args, "items", default: 2000)
        let pageSize = Bench.option(args, "page-size", default: 100)
        let tenants = (0..<tenantCount).map { "tenant-\($0).onmicrosoft.com" }
        // Each tenant holds its M items in one collection (deviceConfigurations).
        let collection = SimulatedCollection.intuneDefault(key: "deviceConfiguration")!
        let secret = "bench-secret-\(UUID().uuidString)"
        var seed = SimulatorSeed.generate(tenants: tenants, itemsPerCollection: items, collections: [collection], seed: 11)
        seed = SimulatorSeed(tenants: seed.tenants.map {
            SimulatedTenant(id: $0.id, clientID: "bench", clientSecret: secret, collections: $0.collections)
        })
        let sim = GraphSimulator(seed: seed, configuration: .init(pageSizeOverride: pageSize))
        let base = try await sim.start()
        let dir = try Bench.tempDir("graph")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try LMDBEventStore.open(path: dir + "/store", options: .init(
            create: true, projections: InventoryProjections.all, stateTables: SyncRunner.stateTables))
        let runner = SyncRunner(store: store, options: .init(globalLimit: tenantCount, perTenantLimit: 1))
        let source = GraphSource(credentials: try GraphCredentials(clientID: "bench", clientSecret: secret),
                                 endpoints: try GraphEndpoints(graphBaseURL: base, loginBaseURL: base))
        let selection = try SelectionParser.parse(#"{"policy_types":["deviceConfiguration"]}"#).selection
        let commitsBefore = store.commitCount
        var observed = 0
        var statuses: [String: Int] = [:]
        let seconds = try await Bench.time {
            let results = await withTaskGroup(of: Result<SyncSummary, any Error>.self) { group in
                for t in tenants {
                    group.addTask {
                        do { return .success(try await runner.run(tenant: t, selection: selection, source: source)) } catch { return .failure(error) }
                    }
                }
                var out: [Result<SyncSummary, any Error>] = []
                for await r in group { out.append(r) }
                return out
            }
            for r in results {
                let s = try r.get()
                observed += s.observed
                statuses[s.status.rawValue, default: 0] += 1
            }
        }
        let commits = store.commitCount - commitsBefore
        try await source.shutdown()
        await sim.stop()
        print("graph sync: \(tenantCount) tenants × \(items) items, page size \(pageSize), runs \(statuses)")
        print(String(format: "  %d items in %.2f s = %.0f items/s", observed, seconds, Double(observed) / seconds))
        print(String(format: "  %d commits = %.0f commits/s, %.0f items per commit (%d appends issued by runs)",
                     commits, Double(commits) / seconds, Double(observed) / Double(max(commits, 1)),
                     tenantCount * (items / pageSize + 3)))
        print(String(format: "  peak memory: %.0f MiB", Bench.peakMemoryMiB()))
        return 0
    }
}
