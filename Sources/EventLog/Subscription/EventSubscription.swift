import Foundation

/// Options of a subscription.
package struct SubscriptionOptions: Sendable, Hashable {
    /// At most this many matching events are read per (short) read transaction.
    package var chunkSize: Int
    /// At most this many events are examined per read transaction (filters skip most of them).
    package var scanLimit: Int
    /// A chunk stops growing once it holds this many bytes of envelopes.
    package var chunkBytes: Int
    /// How long an acknowledgement may stay in memory before it is written to the store. `.zero`
    /// writes every acknowledgement at once (one write transaction each).
    package var flushInterval: Duration
    /// Learn of commits of other processes as they happen: inotify on an LMDB store's data file,
    /// LISTEN on PostgreSQL. When off, or when watching fails, the subscription rescans at a
    /// fixed interval (every second on LMDB, every 200 ms by default on PostgreSQL).
    package var watch: Bool
    /// How long a named consumer's lease lasts unless renewed (it is renewed every third of
    /// this while the subscription runs): how soon another host may take over the consumer of
    /// a process that died without closing it. At least 300 ms.
    package var leaseDuration: Duration

    package init(chunkSize: Int = 1024, scanLimit: Int = 8192, chunkBytes: Int = 8 << 20,
                flushInterval: Duration = .milliseconds(200), watch: Bool = true, leaseDuration: Duration = .seconds(15)) {
        self.chunkSize = max(1, chunkSize)
        self.scanLimit = max(1, scanLimit)
        self.chunkBytes = max(1, chunkBytes)
        self.flushInterval = flushInterval
        self.watch = watch
        self.leaseDuration = max(.milliseconds(300), leaseDuration)
    }
}

/// A live, ordered stream of the log's events after a position: an `AsyncSequence` of
/// ``RawEvent`` (use ``decoded()`` for ``RecordedEvent``s).
///
/// The sequence catches up in chunks (one short read transaction per ``SubscriptionOptions/chunkSize``
/// events, delivered from memory, so memory stays bounded however far behind it starts and the
/// writer never waits for it), then waits for commits of this or any other process and
/// continues. It never ends by itself; it ends (returns `nil`) when the task iterating it is
/// cancelled or ``close()`` is called.
///
/// **Named consumers.** A subscription opened with ``EventStore/subscribe(consumer:filter:startingAfter:reset:options:)``
/// starts after the consumer's durable checkpoint. Call ``ack(_:)`` once an event (and every one
/// before it) has been handled. Acknowledgements are kept in memory and written to the store's
/// consumer checkpoints at most ``SubscriptionOptions/flushInterval`` later, on ``flush()``, and
/// on ``close()``. Delivery is **at-least-once, in log order, without gaps**: after a crash the
/// consumer resumes after its last *written* checkpoint, so events acknowledged within the last
/// flush interval (and every unacknowledged one) are delivered again. The subscription holds the
/// consumer's ``ConsumerLease`` (renewed while it runs, released by ``close()``); if another
/// subscription takes the lease over (this one stalled past ``SubscriptionOptions/leaseDuration``),
/// iteration and checkpoint writes fail with `consumer_held`.
///
/// Iterate from one task at a time; ``ack(_:)``, ``flush()`` and ``close()`` may be called from any.
// @unchecked Sendable: state shared with other tasks is guarded by `lock`; the reader state is
// touched only by the one iterating task (documented above).
package final class EventSubscription: AsyncSequence, @unchecked Sendable {
    package typealias Element = RawEvent
    package typealias Failure = any Error

    /// Counters for tests and monitoring.
    package struct Statistics: Sendable, Hashable {
        /// Read transactions that returned events.
        package var chunksRead = 0
        /// Events examined (delivered or filtered out).
        package var eventsScanned = 0
        /// Events delivered.
        package var eventsDelivered = 0
        /// The most events ever held in memory at once.
        package var maxBufferedEvents = 0
        /// Times the subscription woke up to rescan after catching up.
        package var wakeUps = 0
        /// Checkpoint writes.
        package var checkpointWrites = 0
    }

    /// The consumer's name, or `nil` for an anonymous subscription (acknowledgements are not kept).
    package let consumer: String?
    /// The filter.
    package let filter: SubscriptionFilter
    /// The position the subscription started after.
    package let startPosition: UInt64
    /// The options.
    package let options: SubscriptionOptions
    /// The lease a named consumer's subscription holds.
    package let lease: ConsumerLease?

    let store: any SubscriptionSource
    private let compiled: CompiledFilter
    private let signal: any StoreWakeSignal

    private let lock = NSLock()
    // Reader state (touched by the iterating task, read by others under `lock`).
    private var buffer: [RawEvent] = []
    private var bufferIndex = 0
    /// Every position at or before this has been read from the store.
    private var scanned: UInt64
    private var lastDelivered: UInt64
    private var closed = false
    // Acknowledgement state.
    private var acknowledgedPosition: UInt64
    private var flushedPosition: UInt64
    private var flushScheduled = false
    private var stats = Statistics()
    private var released = false
    /// Set when another subscription took the lease over.
    private var leaseLost: EventLogError?
    private var renewal: Task<Void, Never>?

    package init(store: any SubscriptionSource, after position: UInt64, consumer: String?, filter: SubscriptionFilter,
         options: SubscriptionOptions, lease: ConsumerLease? = nil) {
        self.store = store
        self.lease = lease
        self.consumer = consumer
        self.filter = filter
        self.compiled = CompiledFilter(filter)
        self.startPosition = position
        self.options = options
        self.scanned = position
        self.lastDelivered = position
        self.acknowledgedPosition = position
        self.flushedPosition = position
        self.signal = store.acquireWakeSignal(watch: options.watch)
        if lease != nil { startRenewing() }
    }

    deinit {
        releaseSignal()
        renewal?.cancel()
        // Write what was acknowledged but not flushed, then release the lease, without waiting.
        if let consumer, acknowledgedPosition > flushedPosition {
            store.advanceConsumerCheckpointLater(consumer, to: acknowledgedPosition, filter: filter, holder: lease?.holder)
        }
        if let lease { store.releaseConsumerLeaseLater(lease.consumer, holder: lease.holder) }
    }

    /// Renews the lease every third of its duration until the subscription closes or the lease
    /// is taken over.
    private func startRenewing() {
        guard let lease else { return }
        let interval = options.leaseDuration / 3, duration = options.leaseDuration
        let store = self.store
        renewal = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { return }
                do {
                    try await store.renewConsumerLease(lease.consumer, holder: lease.holder, duration: duration)
                } catch let e as EventLogError where e.code == .consumerHeld {
                    self?.loseLease(e)
                    return
                } catch {
                    // A transient failure (a full disk): the next renewal tries again.
                }
            }
        }
    }

    private func loseLease(_ error: EventLogError) {
        lock.withLock { leaseLost = error }
        signal.bump()
    }

    private func releaseSignal() {
        lock.lock()
        let first = !released
        released = true
        lock.unlock()
        if first { signal.release() }
    }

    /// How the subscription learns of commits of other processes: `"inotify"`, `"listen"`
    /// (PostgreSQL, while its listening connection is up) or `"polling"`.
    package var wakeMode: String { signal.mode.rawValue }

    // MARK: Acknowledgement

    /// The last acknowledged position (in memory; see ``flushedCheckpoint``).
    package var acknowledged: UInt64 {
        lock.lock()
        defer { lock.unlock() }
        return acknowledgedPosition
    }

    /// The last acknowledged position written to the store.
    package var flushedCheckpoint: UInt64 {
        lock.lock()
        defer { lock.unlock() }
        return flushedPosition
    }

    /// The last position delivered or passed over by the filter: the furthest ``ack(_:)`` accepts.
    package var delivered: UInt64 {
        lock.lock()
        defer { lock.unlock() }
        return deliveredThroughLocked
    }

    /// Counters.
    package var statistics: Statistics {
        lock.lock()
        defer { lock.unlock() }
        return stats
    }

    /// Everything up to (and excluding) the next buffered event has been delivered or skipped.
    private var deliveredThroughLocked: UInt64 {
        bufferIndex < buffer.count ? buffer[bufferIndex].position - 1 : scanned
    }

    /// Acknowledges every event at or before `position`. Cheap: it only records the position in
    /// memory and schedules a write of the checkpoint (see ``SubscriptionOptions/flushInterval``).
    /// Acknowledging an older position than before does nothing.
    ///
    /// - Throws: ``EventLogError`` `invalid_acknowledgement` when `position` is beyond what the
    ///   subscription has delivered.
    package func ack(_ position: UInt64) throws(EventLogError) {
        lock.lock()
        let limit = deliveredThroughLocked
        guard position <= limit else {
            lock.unlock()
            throw EventLogError(.invalidAcknowledgement,
                "cannot acknowledge position \(position): only positions up to \(limit) were delivered")
        }
        let schedule = advanceAckLocked(to: position)
        lock.unlock()
        if schedule { scheduleFlush() }
    }

    /// Moves the acknowledgement forward; returns whether a flush must be scheduled.
    private func advanceAckLocked(to position: UInt64) -> Bool {
        guard position > acknowledgedPosition else { return false }
        acknowledgedPosition = position
        guard consumer != nil, !flushScheduled else { return false }
        flushScheduled = true
        return true
    }

    private func scheduleFlush() {
        let interval = options.flushInterval
        Task { [self] in
            if interval > .zero { try? await Task.sleep(for: interval) }
            lock.withLock { flushScheduled = false }
            try? await flush()
        }
    }

    /// Writes the acknowledged position to the store now (no-op for anonymous subscriptions or
    /// when nothing changed).
    package func flush() async throws {
        guard let consumer else { return }
        let (target, needed) = lock.withLock { (acknowledgedPosition, acknowledgedPosition > flushedPosition) }
        guard needed else { return }
        try await store.advanceConsumerCheckpoint(consumer, to: target, filter: filter, holder: lease?.holder)
        lock.withLock {
            flushedPosition = Swift.max(flushedPosition, target)
            stats.checkpointWrites += 1
        }
    }

    /// Ends the sequence (a pending or later `next()` returns `nil`), writes the acknowledged
    /// position to the store and releases the consumer's lease.
    package func close() async throws {
        lock.withLock { closed = true }
        signal.bump()
        renewal?.cancel()
        do { try await flush() } catch {
            if let lease { try? await store.releaseConsumerLease(lease.consumer, holder: lease.holder) }
            throw error
        }
        if let lease { try await store.releaseConsumerLease(lease.consumer, holder: lease.holder) }
    }

    // MARK: Iteration

    package struct AsyncIterator: AsyncIteratorProtocol {
        let subscription: EventSubscription

        package mutating func next() async throws -> RawEvent? {
            try await subscription.nextEvent()
        }
    }

    package func makeAsyncIterator() -> AsyncIterator { AsyncIterator(subscription: self) }

    /// The same stream, decoded.
    package func decoded() -> AsyncThrowingMapSequence<EventSubscription, RecordedEvent> {
        self.map { try $0.decode() }
    }

    /// Whether events are buffered in memory (the next `next()` returns without reading).
    package var hasBufferedEvents: Bool {
        lock.lock()
        defer { lock.unlock() }
        return bufferIndex < buffer.count
    }

    private enum Step {
        case deliver(RawEvent)
        case end
        case read(from: UInt64)
    }

    /// The next step of the iterator, under the lock.
    private func step() -> Step {
        lock.lock()
        if closed || Task.isCancelled {
            lock.unlock()
            return .end
        }
        guard bufferIndex < buffer.count else {
            let from = scanned + 1
            lock.unlock()
            return .read(from: from)
        }
        let e = buffer[bufferIndex]
        bufferIndex += 1
        if bufferIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            bufferIndex = 0
        }
        // Events the filter skipped before `e` need no handling: when everything delivered so
        // far is acknowledged, the acknowledgement moves past them.
        var schedule = false
        if acknowledgedPosition >= lastDelivered, e.position - 1 > acknowledgedPosition {
            schedule = advanceAckLocked(to: e.position - 1)
        }
        lastDelivered = e.position
        stats.eventsDelivered += 1
        lock.unlock()
        if schedule { scheduleFlush() }
        return .deliver(e)
    }

    /// Takes a chunk read from `from`; returns `false` when it held nothing (caught up).
    private func absorb(_ chunk: SubscriptionChunk, from: UInt64) -> Bool {
        lock.lock()
        var schedule = false
        let gotSome = chunk.scannedThrough >= from
        if gotSome {
            scanned = chunk.scannedThrough
            buffer = chunk.events
            bufferIndex = 0
            stats.chunksRead += 1
            stats.eventsScanned += Int(chunk.scannedThrough - from + 1)
            stats.maxBufferedEvents = Swift.max(stats.maxBufferedEvents, chunk.events.count)
        }
        // Skipped events need no handling: move a fully acknowledged consumer past them.
        if chunk.events.isEmpty, acknowledgedPosition >= lastDelivered, scanned > acknowledgedPosition {
            schedule = advanceAckLocked(to: scanned)
        }
        lock.unlock()
        if schedule { scheduleFlush() }
        return gotSome
    }

    private func nextEvent() async throws -> RawEvent? {
        while true {
            if let lost = lock.withLock({ leaseLost }) { throw lost }
            switch step() {
            case .end:
                return nil
            case .deliver(let e):
                return e
            case .read(let from):
                let seen = signal.current
                // `close()` sets `closed` before it bumps the signal: checked after reading the
                // generation, a close is either seen here or ends the wait below.
                if lock.withLock({ closed }) { return nil }
                let chunk = try store.readSubscriptionChunk(from: from, filter: compiled, options: options)
                if absorb(chunk, from: from) { continue }
                // Caught up: wait for a commit (or close / cancellation).
                await signal.wait(after: seen)
                lock.withLock { stats.wakeUps += 1 }
            }
        }
    }
}
