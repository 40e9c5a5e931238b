import Dispatch

/// A task executor that runs its jobs one at a time on a serial dispatch queue of its own
/// instead of the cooperative pool, for async work with long synchronous stretches between its
/// awaits (a verify's chunks, an as-of replay): those stretches then hold none of the pool's
/// threads (one per core), which the log's writer and every other task share.
///
/// ```swift
/// let report = try await withTaskExecutorPreference(SerialTaskExecutor(label: "atlas-verify")) {
///     try await verifier.check()
/// }
/// ```
package final class SerialTaskExecutor: TaskExecutor {
    private let queue: DispatchQueue

    package init(label: String) {
        queue = DispatchQueue(label: label, qos: .utility)
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
