import EventLog
import Inventory

/// Checks presented bearer tokens against the `access_tokens` projection, on every request
/// (so a revocation or expiry takes effect at once).
struct TokenVerifier: Sendable {
    let queries: InventoryQueries

    /// The grant of `token`, or `nil` when it is unknown, expired or revoked. Hashes the token
    /// and compares the hash with every active token's in constant time.
    func grant(for token: String, now: Timestamp = .now()) throws -> AccessGrant? {
        guard token.hasPrefix(BearerToken.prefix), token.utf8.count <= 256 else { return nil }
        let presented = Array(BearerToken.sha256(token).utf8)
        var found: AccessToken?
        for stored in try queries.accessTokens() {
            // Every row is compared, matched or not, so the time does not tell which matched.
            if BearerToken.constantTimeEquals(presented, Array(stored.sha256.utf8)), found == nil { found = stored }
        }
        guard let found, found.state(at: now) == .active else { return nil }
        return AccessGrant(tokenName: found.name, tenants: found.tenants.isEmpty ? nil : Set(found.tenants))
    }
}
