package import CanonicalJSON
package import EventLog

/// `access.token_created`: a named bearer token now grants read access. Only the SHA-256 of the
/// token is recorded, never the token.
package struct AccessTokenCreated: Sendable, Hashable {
    /// The token's name (unique among tokens not revoked).
    package var name: String
    /// Lowercase hex SHA-256 of the token's text.
    package var sha256: String
    /// The tenants it may read (canonical form, sorted), or empty for every tenant.
    package var tenants: [String]
    /// When it stops being accepted, if ever.
    package var expiresAt: Timestamp?

    package init(name: String, sha256: String, tenants: [String], expiresAt: Timestamp?) {
        self.name = name
        self.sha256 = sha256
        self.tenants = tenants
        self.expiresAt = expiresAt
    }

    package var data: JSONValue {
        .object([
            "name": .string(name), "sha256": .string(sha256), "tenants": .array(tenants.map { .string($0) }),
            "expires_at": expiresAt.map { .string($0.description) } ?? .null,
        ])
    }

    package init(data: JSONValue) throws(InventoryPayloadError) {
        let r = try PayloadReader(data, type: AccessEventType.tokenCreated)
        name = try r.string("name")
        sha256 = try r.string("sha256")
        tenants = try r.strings("tenants")
        expiresAt = try r.optionalString("expires_at").flatMap(Timestamp.init(rfc3339:))
    }
}
