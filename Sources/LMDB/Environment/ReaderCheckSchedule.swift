import Foundation
import Synchronization

/// When an environment next clears reader slots left by dead processes (`mdb_reader_check`):
/// at open, whenever a read transaction finds the reader table full, and at most every
/// ``interval`` when a transaction begins, so a long-lived process frees the slots of readers
/// killed while it runs. Checking costs a scan of the reader table; the schedule itself costs
/// one monotonic clock read per transaction.
final class ReaderCheckSchedule: Sendable {
    /// The time between periodic checks.
    static let interval: UInt64 = 60_000_000_000

    private let next: Mutex<UInt64>

    init() { next = Mutex(Self.now() + Self.interval) }

    /// Whether a periodic check is due; when it is, the next one is scheduled (one caller runs it).
    func takeDue() -> Bool {
        let t = Self.now()
        return next.withLock { next in
            guard t >= next else { return false }
            next = t + Self.interval
            return true
        }
    }

    private static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
