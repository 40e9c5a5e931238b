package import CanonicalJSON

/// One simulated Entra tenant: its app credentials and its Graph collections.
package struct SimulatedTenant: Sendable, Hashable {
    /// The tenant id used in the token URL, e.g. `contoso`.
    package var id: String
    /// The app registration's client id.
    package var clientID: String
    /// The app registration's client secret.
    package var clientSecret: String
    /// Items per collection, keyed by full path such as `/beta/deviceManagement/configurationPolicies`.
    package var collections: [String: [JSONValue]]

    /// Creates a tenant.
    package init(id: String, clientID: String, clientSecret: String, collections: [String: [JSONValue]] = [:]) {
        self.id = id
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.collections = collections.reduce(into: [:]) { $0[GraphPath.normalize($1.key)] = $1.value }
    }

    /// The tenant as it appears in a seed file.
    package var jsonValue: JSONValue {
        .object([
            "id": .string(id),
            "client_id": .string(clientID),
            "client_secret": .string(clientSecret),
            "collections": .object(collections.mapValues { .array($0) }),
        ])
    }

    /// Reads a tenant from its seed-file form.
    package init(json: JSONValue) throws {
        guard let id = json["id"]?.stringValue, let clientID = json["client_id"]?.stringValue,
              let secret = json["client_secret"]?.stringValue
        else { throw SimulatorError.invalidSeed("a tenant needs string id, client_id and client_secret") }
        var collections: [String: [JSONValue]] = [:]
        if let c = json["collections"] {
            guard let members = c.objectValue else {
                throw SimulatorError.invalidSeed("collections of tenant \(id) must be an object")
            }
            for (path, items) in members {
                guard let array = items.arrayValue else {
                    throw SimulatorError.invalidSeed("collection \(path) of tenant \(id) must be an array")
                }
                collections[path] = array
            }
        }
        self.init(id: id, clientID: clientID, clientSecret: secret, collections: collections)
    }
}
