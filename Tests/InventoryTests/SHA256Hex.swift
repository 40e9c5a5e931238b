import Crypto
import EventLog

/// SHA-256 hex of a string, computed independently of the code under test.
enum SHA256Hex {
    static func of(_ text: String) -> String { Hex.encode(Array(SHA256.hash(data: Array(text.utf8)))) }
}
