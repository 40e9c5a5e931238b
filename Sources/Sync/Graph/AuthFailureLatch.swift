import Foundation

/// The first authentication failure of one tenant's run: once the identity platform refused the
/// credentials, no other type of the run is attempted and the failure is recorded once.
final class AuthFailureLatch: @unchecked Sendable {
    private let lock = NSLock()
    private var failure: SourceError?

    /// The failure, once there is one.
    var error: SourceError? {
        lock.lock()
        defer { lock.unlock() }
        return failure
    }

    /// Keeps `error` unless a failure is already kept; true when it was the first.
    func close(with error: SourceError) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard failure == nil else { return false }
        failure = error
        return true
    }
}
