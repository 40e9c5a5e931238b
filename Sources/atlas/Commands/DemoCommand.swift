import ArgumentParser
import CanonicalJSON
import CommandSupport
import EventLog
import Foundation
import GraphSimulator
import Inventory
import Sync

/// `atlas demo`: the whole product in one run, against a Graph simulator started in-process.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the end-to-end demo: a Graph simulator, three tenants, a deletion and a throttled type.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var logging: LoggingOptions
    @Option(name: .customLong("items-per-collection"), help: "Policies per collection and tenant in the simulator.")
    var itemsPerCollection = 30

    func validate() throws {
        guard (1...5000).contains(itemsPerCollection) else { throw ValidationError("--items-per-collection must be 1-5000") }
    }

    func run() async throws {
        let tenants = ["contoso.onmicrosoft.com", "fabrikam.onmicrosoft.com", "northwind.onmicrosoft.com"]
        let secret = "demo-secret-" + EventID.generate().description
        var seed = SimulatorSeed.generate(tenants: tenants, itemsPerCollection: itemsPerCollection, seed: 7)
        seed = SimulatorSeed(tenants: seed.tenants.map {
            SimulatedTenant(id: $0.id, clientID: "atlas-demo", clientSecret: secret, collections: $0.collections)
        })
        let simulator = GraphSimulator(seed: seed)
        let base = try await simulator.start()
        print("Graph simulator listening on \(base) with \(tenants.count) tenants, \(itemsPerCollection) policies per collection")

        let s = try store.open(create: true, stateTables: SyncRunner.stateTables)
        print("store: \(s.path)")
        let runner = SyncRunner(store: s, options: .init(logger: logging.logger("atlas.sync")))
        let selection = try SelectionParser.parse(
            #"{"categories":["configuration","compliance","conditionalAccess"],"include_foundations":true}"#).selection
        print("selection \(selection.canonicalText)\n  hash \(selection.hash)\n  types \(selection.resolvedTypes.map(\.key).joined(separator: ", "))")

        let source = GraphSource(
            credentials: try GraphCredentials(clientID: "atlas-demo", clientSecret: secret),
            endpoints: try GraphEndpoints(graphBaseURL: base, loginBaseURL: base),
            options: GraphSourceOptions(retry: RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(100), maxWait: .seconds(1),
                                                           budget: .seconds(3))),
            logger: logging.logger("atlas.graph"))
        do {
            print("\n== first sync of \(tenants.count) tenants (concurrently)")
            try report(await GraphSync.run(runner: runner, tenants: tenants, selection: selection, source: source, progress: nil), tenants)

            // Change the world: delete a policy in contoso; throttle fabrikam's compliance policies
            // until retries run out, and delete one of them too.
            let configPath = PolicyTypeRegistry.type("deviceConfiguration")!.versionedPath
            let compliancePath = PolicyTypeRegistry.type("deviceCompliancePolicy")!.versionedPath
            let deleted = simulator.items(tenant: tenants[0], path: configPath)?.first?["id"]?.stringValue ?? ""
            _ = simulator.removeItem(tenant: tenants[0], path: configPath, id: deleted)
            let hidden = simulator.items(tenant: tenants[1], path: compliancePath)?.first?["id"]?.stringValue ?? ""
            _ = simulator.removeItem(tenant: tenants[1], path: compliancePath, id: hidden)
            _ = simulator.addFault(tenant: tenants[1], path: compliancePath, SimulatedFault(.status(429, retryAfter: "0.2"), times: nil))
            print("\n== in the simulator: deleted deviceConfiguration \(deleted) of \(tenants[0]);")
            print("   deleted deviceCompliancePolicy \(hidden) of \(tenants[1]) and throttled that collection (429, Retry-After 0.2) for good")

            print("\n== second sync")
            try report(await GraphSync.run(runner: runner, tenants: tenants, selection: selection, source: source, progress: nil), tenants)
        } catch {
            try? await source.shutdown()
            await simulator.stop()
            throw error
        }
        try? await source.shutdown()
        await simulator.stop()

        let queries = InventoryQueries(store: s)
        for tenant in tenants {
            print("\n== \(tenant)")
            let items = try queries.items(tenant: tenant)
            var byType: [String: Int] = [:]
            for i in items { byType[i.policyType, default: 0] += 1 }
            print("inventory: \(items.count) items — " + byType.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            Output.runs(try queries.runs(tenant: tenant))
            Output.missing(try queries.missing(tenant: tenant, selection: selection))
        }
        print("\nEvery run above is in the log: try `atlas-replay verify --store \(store.path)` and `atlas-replay export --store \(store.path)`.")
    }

    func report(_ results: [Result<SyncSummary, any Error>], _ tenants: [String]) throws {
        let summaries = try results.map { try $0.get() }
        Output.table(["TENANT", "STATUS", "OBSERVED", "UPSERTED", "ERRORS", "CODES"], summaries.map {
            [$0.tenant, $0.status.rawValue, String($0.observed), String($0.upserted), String($0.errors),
             $0.errorCodes.map(\.rawValue).joined(separator: ",")]
        })
    }
}
