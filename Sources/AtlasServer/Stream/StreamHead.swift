import EventLog
import Synchronization

/// The log's head position as the server's event streams last read it: read from the store
/// at most once per `maxAge` however many streams ask, so that caught-up followers wait
/// without each asking the store (on PostgreSQL, 100 idle followers polling every 100 ms were
/// 1,000 queries a second).
final class StreamHead: Sendable {
    private struct State {
        var position: UInt64 = 0
        var readAt: ContinuousClock.Instant?
        var reading = false
    }

    private let state = Mutex(State())

    /// The head position, read from `store` when the last reading is older than `maxAge` (and
    /// no other stream is reading it now).
    func position(of store: any EventStore, maxAge: Duration) throws -> UInt64 {
        let read = state.withLock { s -> Bool in
            if s.reading { return false }
            if let t = s.readAt, ContinuousClock.now - t < maxAge { return false }
            s.reading = true
            return true
        }
        guard read else { return state.withLock { $0.position } }
        let head: UInt64
        do {
            head = try store.head().position
        } catch {
            state.withLock { $0.reading = false }
            throw error
        }
        return state.withLock { s in
            s.position = max(s.position, head)
            s.readAt = .now
            s.reading = false
            return s.position
        }
    }

    /// Notes that a stream read events up to `position`.
    func saw(_ position: UInt64) {
        state.withLock { $0.position = max($0.position, position) }
    }
}
