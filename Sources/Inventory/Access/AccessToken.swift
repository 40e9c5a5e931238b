package import CanonicalJSON
package import EventLog

/// A bearer token as the `access_tokens` projection knows it (never the token itself).
package struct AccessToken: Sendable, Hashable {
    package var name: String
    /// Lowercase hex SHA-256 of the token's text.
    package var sha256: String
    /// The tenants it may read, or empty for every tenant.
    package var tenants: [String]
    package var createdAt: Timestamp
    package var expiresAt: Timestamp?
    package var revokedAt: Timestamp?
    /// The log position of its creation event.
    package var createdPosition: UInt64

    package init(name: String, sha256: String, tenants: [String], createdAt: Timestamp, expiresAt: Timestamp?,
                 revokedAt: Timestamp?, createdPosition: UInt64) {
        self.name = name
        self.sha256 = sha256
        self.tenants = tenants
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.createdPosition = createdPosition
    }

    /// What the token may do at `now`.
    package enum State: String, Sendable, Hashable {
        case active, expired, revoked
    }

    /// Its state at `now`.
    package func state(at now: Timestamp) -> State {
        if revokedAt != nil { return .revoked }
        if let expiresAt, expiresAt <= now { return .expired }
        return .active
    }

    /// Whether it may read `tenant` (canonical form).
    package func allows(tenant: String) -> Bool { tenants.isEmpty || tenants.contains(tenant) }

    /// The row as JSON (`atlas token list --json`), without the hash.
    package func json(at now: Timestamp) -> JSONValue {
        .object([
            "name": .string(name), "tenants": .array(tenants.map { .string($0) }),
            "created_at": .string(createdAt.description),
            "expires_at": expiresAt.map { .string($0.description) } ?? .null,
            "revoked_at": revokedAt.map { .string($0.description) } ?? .null,
            "state": .string(state(at: now).rawValue),
        ])
    }

    /// The stored row (with the hash and position).
    var row: JSONValue {
        .object([
            "name": .string(name), "sha256": .string(sha256), "tenants": .array(tenants.map { .string($0) }),
            "created_at": .string(createdAt.description),
            "expires_at": expiresAt.map { .string($0.description) } ?? .null,
            "revoked_at": revokedAt.map { .string($0.description) } ?? .null,
            "created_position": .number(Double(createdPosition)),
        ])
    }

    init(row v: JSONValue) throws(InventoryPayloadError) {
        let r = try PayloadReader(v, type: "access token row")
        name = try r.string("name")
        sha256 = try r.string("sha256")
        tenants = try r.strings("tenants")
        guard let created = Timestamp(rfc3339: try r.string("created_at")) else { throw InventoryPayloadError("access token row: bad created_at") }
        createdAt = created
        expiresAt = try r.optionalString("expires_at").flatMap(Timestamp.init(rfc3339:))
        revokedAt = try r.optionalString("revoked_at").flatMap(Timestamp.init(rfc3339:))
        createdPosition = UInt64(try r.int("created_position"))
    }
}
