import Crypto
import Foundation

/// Bearer tokens: `atlas_` followed by 32 random bytes in base64url (43 characters).
package enum BearerToken {
    /// The prefix every token starts with, so a leaked one is recognizable.
    package static let prefix = "atlas_"

    /// A new random token.
    package static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return prefix + base64url(bytes)
    }

    /// Lowercase hex SHA-256 of the token's UTF-8 text: all the store keeps.
    package static func sha256(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `a` and `b` are equal, in time that depends only on their lengths.
    package static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    /// base64url without padding.
    package static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
