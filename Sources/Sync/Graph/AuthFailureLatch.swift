import Synchronization

/// The first authentication failure of one tenant's run: once the identity platform refused the
/// credentials, no other type of the run is attempted and the failure is recorded once.
final class AuthFailureLatch: Sendable {
    private let failure = Mutex<SourceError?>(nil)

    /// The failure, once there is one.
    var error: SourceError? {
        failure.withLock { $0 }
    }

    /// Keeps `error` unless a failure is already kept; true when it was the first.
    func close(with error: SourceError) -> Bool {
        failure.withLock { failure in
            guard failure == nil else { return false }
            failure = error
            return true
        }
    }
}
