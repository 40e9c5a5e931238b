import EventLog
import Foundation

/// This process as the holder of run leases: its identity, a random token recognizing its own
/// lease records, and the runs it is executing with the monotonic instant each one's lease
/// lasts until.
///
/// The stored lease carries a wall-clock expiry, which other processes compare with their
/// wall clock. This process decides about its own leases on `ContinuousClock` only, so a jump
/// of the wall clock neither expires its own live run here nor keeps a stalled one alive.
public final class LeaseHolder: @unchecked Sendable {
    public static let current = LeaseHolder()

    let identity: ProcessIdentity = .current
    let host: String = ProcessInfo.processInfo.hostName
    let token: String = EventID.generate().description
    private let lock = NSLock()
    /// Active runs → the monotonic instant their lease lasts until (`nil` before the first lease).
    private var active: [String: ContinuousClock.Instant?] = [:]

    func begin(_ runID: String) {
        lock.lock()
        active[runID] = .some(nil)
        lock.unlock()
    }

    func end(_ runID: String) {
        lock.lock()
        active[runID] = nil
        lock.unlock()
    }

    /// Records that the lease of `runID` lasts until `deadline` (measured before the write that
    /// stored it, so never later than the stored expiry).
    func renewed(_ runID: String, until deadline: ContinuousClock.Instant) {
        lock.lock()
        if active[runID] != nil { active[runID] = deadline }
        lock.unlock()
    }

    func isActive(_ runID: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return active[runID] != nil
    }

    /// Whether this process runs `runID` and its lease has not run out on the monotonic clock.
    func holds(_ runID: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let entry = active[runID], let deadline = entry else { return false }
        return ContinuousClock.now < deadline
    }
}
