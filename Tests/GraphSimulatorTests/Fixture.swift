import CanonicalJSON
import Foundation
import GraphSimulator

/// Starts a simulator on 127.0.0.1:0, runs `body`, and stops it.
enum Fixture {
    static let configurationPolicies = "/beta/deviceManagement/configurationPolicies"
    static let deviceConfigurations = "/beta/deviceManagement/deviceConfigurations"
    static let conditionalAccess = "/v1.0/identity/conditionalAccess/policies"

    static func run<T>(
        tenants: [String] = ["contoso", "fabrikam"],
        items: Int = 30,
        collections: [SimulatedCollection] = SimulatedCollection.intuneDefaults,
        configuration: GraphSimulator.Configuration = .init(),
        _ body: (GraphSimulator, String) async throws -> T
    ) async throws -> T {
        let seed = SimulatorSeed.generate(tenants: tenants, itemsPerCollection: items, collections: collections, seed: 42)
        return try await run(seed: seed, configuration: configuration, body)
    }

    static func run<T>(
        seed: SimulatorSeed, configuration: GraphSimulator.Configuration = .init(),
        _ body: (GraphSimulator, String) async throws -> T
    ) async throws -> T {
        let simulator = GraphSimulator(seed: seed, configuration: configuration)
        let base = try await simulator.start()
        do {
            let result = try await body(simulator, base)
            await simulator.stop()
            return result
        } catch {
            await simulator.stop()
            throw error
        }
    }

    /// A seed with one tenant holding `count` device configurations.
    static func bigSeed(count: Int) -> SimulatorSeed {
        SimulatorSeed.generate(
            tenants: ["contoso"], itemsPerCollection: count,
            collections: [SimulatedCollection.intuneDefault(key: "deviceConfiguration")!], seed: 7)
    }
}
