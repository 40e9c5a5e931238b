import CanonicalJSON
package import EventLog

/// Building the access events and the preconditions that keep token names unambiguous
/// (checked in the append's own write transaction).
package enum AccessTokenEvents {
    package static func created(_ p: AccessTokenCreated) -> EventEnvelope {
        EventEnvelope(type: AccessEventType.tokenCreated, schema: AccessEventType.schema, tenant: AccessEventType.tenant, data: p.data)
    }

    package static func revoked(_ p: AccessTokenRevoked) -> EventEnvelope {
        EventEnvelope(type: AccessEventType.tokenRevoked, schema: AccessEventType.schema, tenant: AccessEventType.tenant, data: p.data)
    }

    /// Fails with `name_taken` when a token named `name` is active at `now`.
    package static func requireNameFree(_ name: String, now: Timestamp) -> @Sendable (any KeyValueWriter) throws -> Void {
        { w in
            guard let v = try w.get(AccessTokensProjection.tokens, Array(name.utf8)) else { return }
            let token = try AccessToken(row: try JSONParser().parse(v))
            if token.state(at: now) == .active {
                throw AccessTokenError(.nameTaken, "a token named \(name) is active; revoke it first (`atlas token revoke \(name)`) or choose another name")
            }
        }
    }

    /// The token named `name` that `revoke` would revoke, read in the same transaction.
    package static func revocable(_ name: String, in r: any KeyValueReader) throws -> AccessToken {
        guard let v = try r.get(AccessTokensProjection.tokens, Array(name.utf8)) else {
            throw AccessTokenError(.unknownName, "no token is named \(name); `atlas token list` shows them")
        }
        let token = try AccessToken(row: try JSONParser().parse(v))
        if token.revokedAt != nil { throw AccessTokenError(.alreadyRevoked, "the token named \(name) is already revoked") }
        return token
    }
}
