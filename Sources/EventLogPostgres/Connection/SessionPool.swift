import EventLog
import Foundation
import PostgresNIO

/// A few idle sessions to one server, handed to one caller at a time; a session that broke is
/// closed instead of returned.
final class SessionPool: Sendable {
    let url: PostgresURL
    private let idle = IdleSessions()
    private let maxIdle: Int

    init(url: PostgresURL, maxIdle: Int = 8) {
        self.url = url
        self.maxIdle = maxIdle
    }

    /// Runs `body` with a session, mapping postgres-nio's errors to ``EventLogError``.
    func withSession<R>(_ body: (PostgresSession) throws -> R) throws -> R {
        let session = try idle.take() ?? PostgresSession.connect(url)
        do {
            let r = try body(session)
            give(session)
            return r
        } catch {
            give(session)
            throw PostgresSession.mapError(error)
        }
    }

    private func give(_ session: PostgresSession) {
        if session.broken || session.connection.isClosed || !idle.put(session, max: maxIdle) { session.close() }
    }

    deinit { closeAll() }

    func closeAll() {
        for s in idle.takeAll() { s.close() }
    }
}

/// The idle sessions behind a lock.
private final class IdleSessions: @unchecked Sendable {
    private let lock = NSLock()
    private var sessions: [PostgresSession] = []

    func take() -> PostgresSession? {
        lock.lock()
        defer { lock.unlock() }
        return sessions.popLast()
    }

    func put(_ s: PostgresSession, max: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard sessions.count < max else { return false }
        sessions.append(s)
        return true
    }

    func takeAll() -> [PostgresSession] {
        lock.lock()
        defer { lock.unlock() }
        let all = sessions
        sessions = []
        return all
    }
}
