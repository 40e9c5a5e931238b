import Foundation
import NIOCore
import Synchronization

/// A fixed set of threads that run the request handling of a server whose store's reads wait
/// for a database server (``EventStore/readsWaitForServer``).
///
/// Handlers read the store synchronously. On LMDB a read is a memory-mapped lookup; on
/// PostgreSQL it is a query that holds its thread for a round trip or longer, and Swift's
/// cooperative pool has only as many threads as cores: two slow queries on a 2-core host would
/// hold every request, heartbeat and stream behind them. Requests and streams of such a server
/// prefer this executor (`withTaskExecutorPreference`), so their reads wait here instead.
///
/// Written by hand: neither Dispatch nor NIO offers a `TaskExecutor` of a bounded thread count
/// (a concurrent `DispatchQueue` adds a thread for every blocked job, and every thread would
/// open a connection of its own). ``threads`` bounds both; the store keeps as many idle
/// connections.
package final class StoreReadExecutor: TaskExecutor, @unchecked Sendable {
    /// One for the process, started on first use; its threads live as long as the process.
    package static let shared = StoreReadExecutor(threads: 8)

    package let threads: Int
    private let condition = NSCondition()
    private var jobs = CircularBuffer<UnownedJob>()
    private let threadIDs = Mutex<Set<UInt>>([])

    private init(threads: Int) {
        self.threads = threads
        for i in 0..<threads {
            let thread = Thread { [unowned self] in
                _ = threadIDs.withLock { $0.insert(Self.currentThreadID) }
                self.work()
            }
            thread.name = "atlas-serve-read-\(i)"
            thread.start()
        }
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Whether the calling code runs on one of the executor's threads.
    package var runsCurrentThread: Bool { threadIDs.withLock { $0.contains(Self.currentThreadID) } }

    private static var currentThreadID: UInt { UInt(pthread_self()) }

    private func work() {
        let executor = asUnownedTaskExecutor()
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: executor)
        }
    }
}
