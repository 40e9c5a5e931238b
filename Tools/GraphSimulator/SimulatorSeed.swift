import AtlasTesting
import CanonicalJSON
package import Foundation

/// The tenants, credentials and items a simulator starts with.
///
/// File format:
/// `{"tenants":[{"id":"contoso","client_id":"…","client_secret":"…",
///   "collections":{"/beta/deviceManagement/configurationPolicies":[{…graph objects…}]}}]}`
package struct SimulatorSeed: Sendable, Hashable {
    /// The tenants, in order.
    package var tenants: [SimulatedTenant]

    /// Creates a seed.
    package init(tenants: [SimulatedTenant]) {
        self.tenants = tenants
    }

    /// The tenant with id `id`.
    package func tenant(_ id: String) -> SimulatedTenant? {
        tenants.first { $0.id == id }
    }

    /// Reads a seed from JSON text.
    package init(jsonData: Data) throws {
        let json: JSONValue
        do { json = try JSONBridge.decode(jsonData) } catch { throw SimulatorError.invalidSeed("\(error)") }
        guard let list = json["tenants"]?.arrayValue else {
            throw SimulatorError.invalidSeed("top level must be an object with a tenants array")
        }
        try self.init(tenants: list.map(SimulatedTenant.init(json:)))
    }

    /// Reads a seed file.
    package init(contentsOf url: URL) throws {
        try self.init(jsonData: Data(contentsOf: url))
    }

    /// The seed as pretty-printed JSON text, including credentials.
    package func jsonData() -> Data {
        JSONBridge.encode(.object(["tenants": .array(tenants.map(\.jsonValue))]), pretty: true)
    }

    /// Generates realistic, deterministic tenants: the same arguments give the same ids, bodies
    /// and credentials. Each tenant gets client id `client-<tenant>` and a 40-character secret
    /// shaped like an Entra client secret (`xxx8Q~` and 34 letters and digits). Every 8-byte
    /// piece of it holds random letters and digits, never hex alone and never the tenant's name,
    /// so no piece turns up by chance among the hex digests, GUIDs and ids a store holds (the
    /// secret scans look for such pieces).
    package static func generate(
        tenants: [String],
        itemsPerCollection: Int,
        collections: [SimulatedCollection] = SimulatedCollection.intuneDefaults,
        seed: UInt64 = 1
    ) -> SimulatorSeed {
        SimulatorSeed(tenants: tenants.map { tenant in
            var credentials = SplitMix64(seed: seed, labels: ["credentials", tenant])
            var items: [String: [JSONValue]] = [:]
            for collection in collections {
                var rng = SplitMix64(seed: seed, labels: ["items", tenant, collection.fullPath])
                items[collection.fullPath] = (0..<itemsPerCollection).map { index in
                    SeedItemFactory.item(for: collection, tenant: tenant, index: index, rng: &rng)
                }
            }
            return SimulatedTenant(
                id: tenant, clientID: "client-\(tenant)", clientSecret: credentials.alphanumeric(3) + "8Q~" + credentials.alphanumeric(34),
                collections: items)
        })
    }
}
