import Foundation
import Inventory

/// The secrets a Graph source knows: the client secret and every access token it obtained,
/// so that no message can carry them.
final class SecretRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String]
    /// Tokens kept for redaction; older ones are dropped (they have long expired).
    static let maxTokens = 64

    init(clientSecret: String) { values = [clientSecret] }

    /// The client secret first, then the tokens, newest last.
    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return values
    }

    func addToken(_ token: String) {
        lock.lock()
        defer { lock.unlock() }
        guard !values.contains(token) else { return }
        values.append(token)
        if values.count > Self.maxTokens + 1 { values.remove(at: 1) }
    }

    /// `text` with every known secret, bearer value and credential-shaped value removed.
    func redact(_ text: String) -> String {
        Redactor(maxBytes: 2048, secrets: all).redact(text)
    }
}
