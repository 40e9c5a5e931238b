import ArgumentParser
import CanonicalJSON
import Foundation
import GraphSimulator
import Inventory

/// `atlas-demo`: the end-to-end demo. Starts the built `graph-simulator` with three tenants, syncs
/// them with the built `atlas`, deletes items and throttles a policy type through the
/// simulator's control endpoints, syncs again and prints each tenant's inventory, runs and
/// missing/unknown items with their confidence.
@main
struct AtlasDemo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "atlas-demo",
        abstract: "Run the end-to-end demo: a Graph simulator, three tenants, a deletion and a throttled type.",
        discussion: "Runs `graph-simulator` and `atlas` from the directory this executable is in (or --tools).")

    @Option(help: "The store directory (default: $ATLAS_STORE or ./atlas-store).")
    var store: String?
    @Option(name: .customLong("items-per-collection"), help: "Policies per collection and tenant in the simulator.")
    var itemsPerCollection = 30
    @Option(name: .customLong("log-level"), help: "`atlas sync`'s log level (its log lines go to stderr).")
    var logLevel: String?
    @Option(help: "The directory holding the built `atlas` and `graph-simulator`.")
    var tools: String?

    static let tenants = ["contoso.onmicrosoft.com", "fabrikam.onmicrosoft.com", "northwind.onmicrosoft.com"]
    static let selectionText = #"{"categories":["configuration","compliance","conditionalAccess"],"include_foundations":true}"#

    func validate() throws {
        guard (1...5000).contains(itemsPerCollection) else { throw ValidationError("--items-per-collection must be 1-5000") }
    }

    var storePath: String {
        if let store, !store.isEmpty { return store }
        if let env = ProcessInfo.processInfo.environment["ATLAS_STORE"], !env.isEmpty { return env }
        return "./atlas-store"
    }

    var toolsDirectory: URL {
        if let tools { return URL(fileURLWithPath: tools) }
        return URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    }

    func run() async throws {
        let tenants = Self.tenants
        let secret = "demo-secret-" + UUID().uuidString.lowercased()
        var environment = ProcessInfo.processInfo.environment
        environment["ATLAS_CLIENT_ID"] = "atlas-demo"
        environment["ATLAS_CLIENT_SECRET"] = secret
        let atlas = try ChildProcess("atlas", in: toolsDirectory, environment: environment)
        let simulatorTool = try ChildProcess("graph-simulator", in: toolsDirectory, environment: environment)

        // The simulator's tenants, all with the demo's client credentials, in a private file.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("atlas-demo-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: scratch) }
        var seed = SimulatorSeed.generate(tenants: tenants, itemsPerCollection: itemsPerCollection, seed: 7)
        seed = SimulatorSeed(tenants: seed.tenants.map {
            SimulatedTenant(id: $0.id, clientID: "atlas-demo", clientSecret: secret, collections: $0.collections)
        })
        let seedFile = scratch.appendingPathComponent("seed.json").path
        guard FileManager.default.createFile(atPath: seedFile, contents: seed.jsonData(), attributes: [.posixPermissions: 0o600]) else {
            throw DemoFailure("cannot write \(seedFile)")
        }

        let simulator = try SimulatorProcess(simulatorTool, seedFile: seedFile)
        print("Graph simulator listening on \(simulator.baseURL) with \(tenants.count) tenants, \(itemsPerCollection) policies per collection")
        let selection = try SelectionParser.parse(Self.selectionText).selection
        print("store: \(storePath)")
        print("selection \(selection.canonicalText)\n  hash \(selection.hash)\n  types \(selection.resolvedTypes.map(\.key).joined(separator: ", "))")

        var sync = ["sync", "--store", storePath, "--selection", Self.selectionText,
                    "--graph-base-url", simulator.baseURL, "--login-base-url", simulator.baseURL]
        sync += tenants.flatMap { ["--tenant", $0] }
        if let logLevel { sync += ["--log-level", logLevel] }
        do {
            print("\n== first sync of \(tenants.count) tenants (concurrently)")
            try atlas.run(sync, allowedStatus: [0, 1])

            // Change the world: delete a policy in contoso; throttle fabrikam's compliance policies
            // until retries run out, and delete one of them too.
            let configPath = PolicyTypeRegistry.type("deviceConfiguration")!.versionedPath
            let compliancePath = PolicyTypeRegistry.type("deviceCompliancePolicy")!.versionedPath
            let deleted = try await simulator.firstItemID(tenant: tenants[0], path: configPath)
            try await simulator.removeItem(tenant: tenants[0], path: configPath, id: deleted)
            let hidden = try await simulator.firstItemID(tenant: tenants[1], path: compliancePath)
            try await simulator.removeItem(tenant: tenants[1], path: compliancePath, id: hidden)
            try await simulator.addFault(tenant: tenants[1], path: compliancePath, SimulatedFault(.status(429, retryAfter: "0.2"), times: nil))
            print("\n== in the simulator: deleted deviceConfiguration \(deleted) of \(tenants[0]);")
            print("   deleted deviceCompliancePolicy \(hidden) of \(tenants[1]) and throttled that collection (429, Retry-After 0.2) for good")

            print("\n== second sync")
            try atlas.run(sync, allowedStatus: [0, 1])
        } catch {
            await simulator.stop()
            throw error
        }
        await simulator.stop()

        for tenant in tenants {
            print("\n== \(tenant)")
            print(try inventoryLine(atlas, tenant: tenant))
            try atlas.run(["runs", "--store", storePath, "--tenant", tenant])
            try atlas.run(["missing", "--store", storePath, "--tenant", tenant, "--selection", Self.selectionText])
        }
        print("\nEvery run above is in the log: try `atlas-replay verify --store \(storePath)` and `atlas-replay export --store \(storePath)`.")
    }

    /// `inventory: N items — type count, …` from `atlas items --format ndjson`.
    func inventoryLine(_ atlas: ChildProcess, tenant: String) throws -> String {
        let data = try atlas.capture(["items", "--store", storePath, "--tenant", tenant, "--format", "ndjson"])
        var byType: [String: Int] = [:]
        var count = 0
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            let item = try JSONParser().parse(Array(line))
            byType[item["policy_type"]?.stringValue ?? "?", default: 0] += 1
            count += 1
        }
        return "inventory: \(count) items — " + byType.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }
}
