import Foundation

/// Runs long synchronous work on a thread of its own, so that awaiting it does not hold one of
/// the cooperative pool's threads (one per core) for the work's whole duration.
enum DedicatedThread {
    /// Runs `body` on a new thread named `name` and returns (or throws) what it does. The
    /// awaiting task is suspended meanwhile; `body` does not observe the task's cancellation.
    static func run<R: Sendable>(name: String, _ body: @escaping @Sendable () throws -> R) async throws -> R {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<R, any Error>) in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.name = name
            thread.start()
        }
    }
}
