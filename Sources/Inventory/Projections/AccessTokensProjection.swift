import CanonicalJSON
package import EventLog

/// The bearer tokens of `atlas serve`, from `access.token_created` and `access.token_revoked`.
///
/// Table `tokens`: name (UTF-8) → canonical JSON of ``AccessToken`` (with its SHA-256). A
/// revoked token keeps its row (with `revoked_at`) until a token of the same name is created.
package struct AccessTokensProjection: Projection {
    package var name: String { "access_tokens" }
    package var version: Int { 1 }
    package var tableNames: [String] { ["tokens"] }
    package var consumedEventTypes: Set<String>? { Self.consumed }
    static let consumed: Set<String> = [AccessEventType.tokenCreated, AccessEventType.tokenRevoked]
    package init() {}

    static let tokens = StoreTable.projection("access_tokens", "tokens")

    package func apply(_ event: ProjectionEvent, to tables: any KeyValueWriter) throws {
        guard Self.consumed.contains(event.type) else { return }
        let e = try event.decoded().envelope
        switch e.type {
        case AccessEventType.tokenCreated:
            let p = try AccessTokenCreated(data: e.data)
            let token = AccessToken(name: p.name, sha256: p.sha256, tenants: p.tenants, createdAt: e.recordedAt,
                                    expiresAt: p.expiresAt, revokedAt: nil, createdPosition: event.position)
            try tables.put(Self.tokens, Array(p.name.utf8), try CanonicalJSON.serialize(token.row))
        case AccessEventType.tokenRevoked:
            let p = try AccessTokenRevoked(data: e.data)
            guard let bytes = try tables.get(Self.tokens, Array(p.name.utf8)) else { return }
            var token = try AccessToken(row: try JSONParser().parse(bytes))
            guard token.sha256 == p.sha256, token.revokedAt == nil else { return }
            token.revokedAt = e.recordedAt
            try tables.put(Self.tokens, Array(p.name.utf8), try CanonicalJSON.serialize(token.row))
        default:
            return
        }
    }
}
