import EventLog
import Foundation
import Synchronization

/// The console's sign-in sessions, in memory: a random session id (the HttpOnly cookie) → the
/// token that signed in and the session's CSRF token. The token itself is checked again on
/// every request, so revoking it ends its sessions at once; restarting the server ends them all.
final class SessionStore: Sendable {
    struct Session: Sendable, Hashable {
        var tokenName: String
        var tokenSHA256: String
        /// The value every console form must carry back.
        var csrf: String
        var expiresAt: ContinuousClock.Instant
    }

    private let sessions = Mutex<[String: Session]>([:])
    let lifetime: Duration

    init(lifetime: Duration) { self.lifetime = lifetime }

    /// Opens a session; returns its id.
    func open(tokenName: String, tokenSHA256: String) -> (id: String, session: Session) {
        let session = Session(tokenName: tokenName, tokenSHA256: tokenSHA256, csrf: Self.randomID(),
                              expiresAt: .now + lifetime)
        let id = Self.randomID()
        sessions.withLock { all in
            let now = ContinuousClock.now
            all = all.filter { $0.value.expiresAt > now }
            all[id] = session
        }
        return (id, session)
    }

    /// The live session with `id`, if any.
    func session(_ id: String) -> Session? {
        sessions.withLock { all in
            guard let s = all[id] else { return nil }
            guard s.expiresAt > .now else {
                all[id] = nil
                return nil
            }
            return s
        }
    }

    /// Ends the session with `id`.
    func close(_ id: String) {
        _ = sessions.withLock { $0.removeValue(forKey: id) }
    }

    /// 32 random bytes, base64url.
    static func randomID() -> String {
        var rng = SystemRandomNumberGenerator()
        return BearerToken.base64url((0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }
}
