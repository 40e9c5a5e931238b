import Inventory
import Synchronization

/// The secrets a Graph source knows: the client secret and every access token it obtained,
/// so that no message can carry them.
final class SecretRegistry: Sendable {
    private struct State {
        var values: [String]
        /// The redactor of ``all``, built once per change (it indexes every secret's fragments).
        var redactor: Redactor
    }

    private let state: Mutex<State>
    /// Tokens kept for redaction; older ones are dropped (they have long expired).
    static let maxTokens = 64

    init(clientSecret: String) {
        state = Mutex(State(values: [clientSecret], redactor: Redactor(maxBytes: 2048, secrets: [clientSecret])))
    }

    /// The client secret first, then the tokens, newest last.
    var all: [String] {
        state.withLock { $0.values }
    }

    func addToken(_ token: String) {
        state.withLock { state in
            guard !state.values.contains(token) else { return }
            state.values.append(token)
            if state.values.count > Self.maxTokens + 1 { state.values.remove(at: 1) }
            state.redactor.secrets = state.values
        }
    }

    /// `text` with every known secret (and fragment of one), bearer value and
    /// credential-shaped value removed, then bounded.
    func redact(_ text: String) -> String {
        let redactor = state.withLock { $0.redactor }
        return redactor.redact(text)
    }
}
