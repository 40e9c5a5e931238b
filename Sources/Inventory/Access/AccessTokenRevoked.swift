package import CanonicalJSON

/// `access.token_revoked`: the named token is no longer accepted.
package struct AccessTokenRevoked: Sendable, Hashable {
    /// The token's name.
    package var name: String
    /// Lowercase hex SHA-256 of the token revoked (so the record names exactly one token).
    package var sha256: String

    package init(name: String, sha256: String) {
        self.name = name
        self.sha256 = sha256
    }

    package var data: JSONValue { .object(["name": .string(name), "sha256": .string(sha256)]) }

    package init(data: JSONValue) throws(InventoryPayloadError) {
        let r = try PayloadReader(data, type: AccessEventType.tokenRevoked)
        name = try r.string("name")
        sha256 = try r.string("sha256")
    }
}
