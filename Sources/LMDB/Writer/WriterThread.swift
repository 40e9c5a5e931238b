import Foundation

/// One dedicated OS thread that runs submitted jobs in order.
///
/// LMDB requires a write transaction to begin and commit on the same thread; running every
/// write job here guarantees it, and serializes writers within the process.
// @unchecked Sendable: the job queue is guarded by `condition`; `threadID` is written once by the
// thread before `started` is signalled and only read after.
final class WriterThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var stopping = false
    private let started = DispatchSemaphore(value: 0)
    nonisolated(unsafe) private var threadID: pthread_t?

    init(name: String) {
        // The thread keeps `self` alive until `stop()` lets `run()` return: the last reference
        // to the environment may be dropped by a job running on this very thread.
        let t = Thread { self.run(name: name) }
        t.name = name
        t.stackSize = 4 << 20
        t.start()
        started.wait()
    }

    /// `true` when called on the writer thread itself.
    var isCurrent: Bool {
        guard let id = threadID else { return false }
        return pthread_equal(id, pthread_self()) != 0
    }

    /// Enqueues `job`; it runs after every job submitted before it.
    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Runs `body` on the writer thread and blocks the caller until it returns.
    /// Called on the writer thread itself, it runs inline.
    func sync<R>(_ body: () throws -> R) throws -> R {
        if isCurrent { return try body() }
        return try withoutActuallyEscaping(body) { escapable in
            let box = UnsafeSendableBox<Result<R, any Error>?>(nil)
            let done = DispatchSemaphore(value: 0)
            // The queue (and the writer loop) keep the submitted closure alive after it ran, so
            // it must not capture `escapable` itself: hold it in a box and empty the box before
            // signalling, or `withoutActuallyEscaping` traps ("closure has escaped").
            let job = UnsafeSendableBox<(() throws -> R)?>(escapable)
            submit {
                box.value = Result { try job.value!() }
                job.value = nil
                done.signal()
            }
            done.wait()
            return try box.value!.get()
        }
    }

    /// Stops the thread after the jobs already submitted have run.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func run(name: String) {
        threadID = pthread_self()
        // The OS-level name (at most 15 bytes), as `top -H`, `perf` and /proc show it.
        ThreadName.setCurrent(name)
        started.signal()
        while true {
            condition.lock()
            while head == jobs.count && !stopping { condition.wait() }
            if head == jobs.count && stopping {
                condition.unlock()
                return
            }
            let job = jobs[head]
            // Release the finished job's captures (often the environment itself) now, not at
            // the next compaction, so a closed environment is actually deinitialized.
            jobs[head] = {}
            head += 1
            if head > 1024 && head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job()
        }
    }
}

/// A box that moves a value across threads when the caller guarantees exclusive access.
// @unchecked Sendable: that guarantee is the caller's; the box adds no synchronization.
final class UnsafeSendableBox<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}
