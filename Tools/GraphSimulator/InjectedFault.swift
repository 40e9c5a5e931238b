package import CanonicalJSON

/// A fault currently armed in the simulator.
package struct InjectedFault: Sendable, Hashable {
    /// Identifier returned when the fault was added.
    package var id: Int
    /// The tenant it applies to, or `*` for every tenant.
    package var tenant: String
    /// The full collection path it applies to (or `/oauth2/v2.0/token` for the token endpoint).
    package var path: String
    /// The fault; its `times` is the number of firings left (`nil` = forever).
    package var fault: SimulatedFault
    /// How many times it has fired so far.
    package var fired: Int

    /// Creates an entry.
    package init(id: Int, tenant: String, path: String, fault: SimulatedFault, fired: Int = 0) {
        self.id = id
        self.tenant = tenant
        self.path = path
        self.fault = fault
        self.fired = fired
    }

    /// The entry as served by `GET /_sim/faults`.
    package var jsonValue: JSONValue {
        .object([
            "id": .number(Double(id)), "tenant": .string(tenant), "path": .string(path),
            "fault": fault.jsonValue, "fired": .number(Double(fired)),
        ])
    }
}
