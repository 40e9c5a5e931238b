import EventLog
import Foundation
import Synchronization

/// This process as the holder of run leases: its identity, a random token recognizing its own
/// lease records, and the runs it is executing with the monotonic instant each one's lease
/// lasts until.
///
/// The stored lease carries a wall-clock expiry, which other processes compare with their
/// wall clock. This process decides about its own leases on `ContinuousClock` only, so a jump
/// of the wall clock neither expires its own live run here nor keeps a stalled one alive.
package final class LeaseHolder: Sendable {
    package static let current = LeaseHolder()

    let identity: ProcessIdentity = .current
    let host: String = ProcessInfo.processInfo.hostName
    let token: String = EventID.generate().description
    /// Active runs → the monotonic instant their lease lasts until (`nil` before the first lease).
    private let active = Mutex<[String: ContinuousClock.Instant?]>([:])

    func begin(_ runID: String) {
        active.withLock { $0[runID] = .some(nil) }
    }

    func end(_ runID: String) {
        active.withLock { $0[runID] = nil }
    }

    /// Records that the lease of `runID` lasts until `deadline` (measured before the write that
    /// stored it, so never later than the stored expiry).
    func renewed(_ runID: String, until deadline: ContinuousClock.Instant) {
        active.withLock { active in
            if active[runID] != nil { active[runID] = deadline }
        }
    }

    func isActive(_ runID: String) -> Bool {
        active.withLock { $0[runID] != nil }
    }

    /// Whether this process runs `runID` and its lease has not run out on the monotonic clock.
    func holds(_ runID: String) -> Bool {
        active.withLock { active in
            guard let entry = active[runID], let deadline = entry else { return false }
            return ContinuousClock.now < deadline
        }
    }
}
