import Foundation
import Inventory

/// The secrets a Graph source knows: the client secret and every access token it obtained,
/// so that no message can carry them.
final class SecretRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String]
    /// Tokens kept for redaction; older ones are dropped (they have long expired).
    static let maxTokens = 64

    /// The redactor of ``all``, built once per change (it indexes every secret's fragments).
    private var redactor: Redactor

    init(clientSecret: String) {
        values = [clientSecret]
        redactor = Redactor(maxBytes: 2048, secrets: values)
    }

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
        redactor.secrets = values
    }

    /// `text` with every known secret (and fragment of one), bearer value and
    /// credential-shaped value removed, then bounded.
    func redact(_ text: String) -> String {
        lock.lock()
        let redactor = self.redactor
        lock.unlock()
        return redactor.redact(text)
    }
}
