import EventLog
import Foundation
import PostgresNIO

/// Tells caught-up subscriptions on PostgreSQL that the log may have grown: the PostgreSQL
/// backend's ``StoreWakeSignal``.
///
/// Every append transaction sends `NOTIFY atlas_events` (delivered when it commits). The signal
/// keeps one connection of its own that `LISTEN`s on that channel and wakes every waiter on
/// each notification; one signal serves all the subscriptions of a ``PostgresEventStore`` while
/// at least one holds it. When the connection cannot be made or breaks, the signal falls back
/// to waking waiters every ``PostgresEventStore/Options/wakePollInterval`` and reconnects with
/// a growing pause (up to 5 s); once listening again it wakes everyone, so subscriptions rescan
/// from their position and miss nothing committed meanwhile. While listening it still wakes
/// them every ``PostgresEventStore/Options/wakeSafetyRescan``.
// @unchecked Sendable: all mutable state is guarded by `lock`.
final class PostgresWakeSignal: StoreWakeSignal, @unchecked Sendable {
    private let url: PostgresURL
    private let listens: Bool
    private let pollInterval: Duration
    private let safetyRescan: Duration

    private let lock = NSLock()
    private var generation: UInt64 = 0
    private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiter = 0
    private var references = 1
    private var stopped = false
    private var currentMode: StoreWakeMode = .polling
    private var tasks: [Task<Void, Never>] = []

    private init(url: PostgresURL, listen: Bool, pollInterval: Duration, safetyRescan: Duration) {
        self.url = url
        self.listens = listen
        self.pollInterval = pollInterval
        self.safetyRescan = safetyRescan
    }

    /// A signal with one holder: listening on its own connection, or (`listen` off) polling only.
    static func start(url: PostgresURL, listen: Bool, pollInterval: Duration, safetyRescan: Duration) -> PostgresWakeSignal {
        let s = PostgresWakeSignal(url: url, listen: listen, pollInterval: pollInterval, safetyRescan: safetyRescan)
        var started = [Task.detached { await s.tick() }]
        if listen { started.append(Task.detached { await s.listenUntilStopped() }) }
        s.lock.withLock { s.tasks = started }
        return s
    }

    // MARK: Holders

    /// Adds a holder; false once the last holder has released the signal (it has stopped).
    func retain() -> Bool {
        lock.withLock {
            guard !stopped else { return false }
            references += 1
            return true
        }
    }

    /// Gives up one hold; the last stops the signal and closes its connection.
    func release() {
        let ending: [Task<Void, Never>]? = lock.withLock {
            references -= 1
            guard references == 0, !stopped else { return nil }
            stopped = true
            return tasks
        }
        guard let ending else { return }
        for t in ending { t.cancel() }
        bump()
    }

    // MARK: Waiting

    /// `listen` while the LISTEN connection is up, `polling` otherwise.
    var mode: StoreWakeMode { lock.withLock { currentMode } }

    var current: UInt64 { lock.withLock { generation } }

    func bump() {
        let woken: [CheckedContinuation<Void, Never>] = lock.withLock {
            generation &+= 1
            let ws = Array(waiters.values)
            waiters.removeAll(keepingCapacity: true)
            return ws
        }
        for c in woken { c.resume() }
    }

    func wait(after seen: UInt64) async {
        let id: Int = lock.withLock {
            nextWaiter += 1
            return nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                lock.lock()
                if generation != seen || stopped || Task.isCancelled {
                    lock.unlock()
                    c.resume()
                    return
                }
                waiters[id] = c
                lock.unlock()
            }
        } onCancel: {
            let c: CheckedContinuation<Void, Never>? = lock.withLock { waiters.removeValue(forKey: id) }
            c?.resume()
        }
    }

    // MARK: Background work

    private var isStopped: Bool { lock.withLock { stopped } }

    private func setMode(_ m: StoreWakeMode) { lock.withLock { currentMode = m } }

    /// Wakes waiters every poll interval while not listening, every safety interval while
    /// listening.
    private func tick() async {
        let step = Duration.milliseconds(100)
        var elapsed = Duration.zero
        while !Task.isCancelled {
            try? await Task.sleep(for: step)
            elapsed += step
            if elapsed >= (mode == .listen ? safetyRescan : pollInterval) {
                elapsed = .zero
                bump()
            }
        }
    }

    /// Keeps a connection listening on the commit channel, reconnecting after a failure.
    private func listenUntilStopped() async {
        var pause = Duration.milliseconds(250)
        while !Task.isCancelled && !isStopped {
            do {
                let connection = try await PostgresSession.connectAsync(url)
                do {
                    try await connection.listen(on: PostgresSchema.channel) { notifications in
                        setMode(.listen)
                        pause = .milliseconds(250)
                        // Anything committed while not listening is found by this rescan.
                        bump()
                        for try await _ in notifications { bump() }
                    }
                } catch {}
                try? await connection.close()
            } catch {}
            setMode(.polling)
            bump()
            guard !Task.isCancelled else { return }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .seconds(5))
        }
    }
}
