import CanonicalJSON
import EventLog

extension InventoryQueries {
    /// Every token the `access_tokens` projection holds (active, expired and revoked), by name.
    package func accessTokens() throws -> [AccessToken] {
        try store.read { r in try Self.accessTokens(in: r) }
    }

    static func accessTokens(in r: any KeyValueReader) throws -> [AccessToken] {
        var out: [AccessToken] = []
        try r.scan(AccessTokensProjection.tokens, prefix: []) { _, v in
            out.append(try AccessToken(row: try JSONParser().parse(v)))
            return true
        }
        return out
    }

    /// The token named `name`, or `nil`.
    package func accessToken(named name: String) throws -> AccessToken? {
        try store.read { r in
            guard let v = try r.get(AccessTokensProjection.tokens, Array(name.utf8)) else { return nil }
            return try AccessToken(row: try JSONParser().parse(v))
        }
    }
}
