import Foundation

/// Helper threads for a sync's bulk work (parsing export lines, encoding observations): one
/// per core, at a lower CPU priority (nice +10) than the rest of the process.
///
/// A sync is bound by the log's single writer thread: every observation waits for it, and a
/// core taken from it slows the whole run down. At an ordinary priority, helpers on every core
/// would share the cores evenly with the writer, leaving it about half a core on a two-core
/// machine; at nice +10 the scheduler gives the writer a core whenever it has work, and the
/// helpers the rest.
///
/// The caller of ``run(iterations:_:)`` works too, at its own priority, and waits only for
/// helpers that started: when other processes keep the cores busy and the helpers get little
/// time, the work still finishes at the caller's pace. The helpers are this pool's own
/// threads, so the shared Swift concurrency and Dispatch threads keep their priority.
// @unchecked Sendable: the queue and thread list are guarded by `condition`; the jobs it hands to
// helpers are non-Sendable closures that `run` outlives (it waits for every helper that took one).
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool(threads: max(1, ProcessInfo.processInfo.activeProcessorCount), nice: 10)

    private let condition = NSCondition()
    /// Work waiting for a helper; one entry per helper asked for.
    private var queue: [ForkJoin] = []
    private var threads: [pthread_t] = []
    /// Helper threads.
    let width: Int

    init(threads count: Int, nice: Int32) {
        width = count
        for _ in 0..<count {
            let thread = Thread { [self] in
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)  // this thread only (Linux)
                Thread.current.name = "atlas-worker"
                condition.lock()
                threads.append(pthread_self())
                condition.unlock()
                while true {
                    condition.lock()
                    while queue.isEmpty { condition.wait() }
                    var job: ForkJoin? = queue.removeFirst()
                    job!.started += 1
                    condition.unlock()
                    job!.work()
                    let done = job!.done
                    job = nil  // the caller's closure must not outlive `run`
                    done.signal()
                }
            }
            thread.start()
        }
    }

    /// Whether the calling thread is one of the helpers.
    var isWorkerThread: Bool {
        condition.lock()
        defer { condition.unlock() }
        let me = pthread_self()
        return threads.contains { pthread_equal($0, me) != 0 }
    }

    /// Runs `body(i)` for every `i` in `0..<iterations`, on the calling thread and the helpers,
    /// and returns when every call has returned.
    func run(iterations: Int, _ body: (Int) -> Void) {
        guard iterations > 1, !isWorkerThread else {
            for i in 0..<iterations { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            var job: ForkJoin? = ForkJoin(iterations: iterations, body)
            condition.lock()
            for _ in 0..<min(width, iterations - 1) { queue.append(job!) }
            condition.broadcast()
            condition.unlock()
            job!.work()
            // Withdraw the requests no helper took up; wait for those that did.
            condition.lock()
            queue.removeAll { $0 === job }
            let started = job!.started
            condition.unlock()
            let done = job!.done
            job = nil
            for _ in 0..<started { done.wait() }
        }
    }
}

/// One ``WorkerPool/run(iterations:_:)``: iterations are claimed one at a time by whichever
/// thread is free.
// @unchecked Sendable: `next` is guarded by `lock`, `started` by the pool's `condition`; `body` is
// called concurrently by design (the caller passes a closure safe for that).
private final class ForkJoin: @unchecked Sendable {
    private let body: (Int) -> Void
    private let iterations: Int
    private let lock = NSLock()
    private var next = 0
    /// Helpers that took this up (guarded by the pool's lock).
    var started = 0
    /// Signalled once by each helper when it is done.
    let done = DispatchSemaphore(value: 0)

    init(iterations: Int, _ body: @escaping (Int) -> Void) {
        self.iterations = iterations
        self.body = body
    }

    /// Claims and runs iterations until none is left.
    func work() {
        while true {
            lock.lock()
            let i = next
            next += 1
            lock.unlock()
            guard i < iterations else { return }
            body(i)
        }
    }
}
