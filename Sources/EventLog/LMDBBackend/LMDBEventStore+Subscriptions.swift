import Foundation
import LMDB

/// Subscriptions and named consumers (see docs/subscriptions.md).
extension LMDBEventStore {
    /// Follows the log from the event after `position` (0: from the first event), forever.
    ///
    /// - Throws: `position_out_of_range` when `position` is beyond the head.
    package func subscribe(
        after position: UInt64 = 0, filter: SubscriptionFilter = .all, options: SubscriptionOptions = .init()
    ) throws -> EventSubscription {
        let head = try head().position
        guard position <= head else {
            throw EventLogError(.positionOutOfRange, "cannot subscribe after position \(position): the head is \(head)")
        }
        return EventSubscription(store: self, after: position, consumer: nil, filter: filter, options: options)
    }

    /// Follows the log as the named consumer: from the event after its durable checkpoint, or,
    /// for a consumer without one, after `startingAfter` (0: from the first event). Acknowledge
    /// with ``EventSubscription/ack(_:)``.
    ///
    /// One subscription per consumer name runs at a time, across every process on the store:
    /// it holds the consumer's ``ConsumerLease`` until it is closed (or its process dies). The
    /// checkpoint records the subscription's filter; a later subscription with another filter
    /// is refused unless `reset` is set, which removes the checkpoint so the consumer starts
    /// again after `startingAfter` with the new filter. A checkpoint without a recorded filter
    /// adopts `filter`.
    ///
    /// - Throws: `invalid_acknowledgement` for an invalid name; `consumer_held` (naming the
    ///   holder's pid, host and since when) while another live subscription holds the consumer;
    ///   `consumer_filter_mismatch` naming both filters; `read_only` on a read-only store;
    ///   `position_out_of_range` when the start is beyond the head.
    package func subscribe(
        consumer name: String, filter: SubscriptionFilter = .all, startingAfter: UInt64 = 0, reset: Bool = false,
        options: SubscriptionOptions = .init()
    ) throws -> EventSubscription {
        try ConsumerName.validate(name)
        let (lease, checkpoint) = try acquireConsumer(name, filter: filter, reset: reset, duration: options.leaseDuration)
        let start = checkpoint?.acknowledged ?? startingAfter
        let head: UInt64
        do { head = try self.head().position } catch {
            releaseConsumerLeaseLater(name, holder: lease.holder)
            throw error
        }
        guard start <= head else {
            releaseConsumerLeaseLater(name, holder: lease.holder)
            throw EventLogError(.positionOutOfRange, "consumer \(name) would start after position \(start), beyond the head \(head)")
        }
        return EventSubscription(store: self, after: start, consumer: name, filter: filter, options: options, lease: lease)
    }

    /// The durable checkpoint of the named consumer, or `nil` when it has none.
    package func consumerCheckpoint(_ name: String) throws -> ConsumerCheckpoint? {
        try ConsumerName.validate(name)
        return try mapErrorsSync { try env.read { txn in try checkpointRecord(txn, name) } }
    }

    /// Every consumer's checkpoint, by name.
    package func consumers() throws -> [ConsumerCheckpoint] {
        try mapErrorsSync {
            try env.read { txn in
                try txn.withCursor(consumerRecords) { c in
                    var out: [ConsumerCheckpoint] = []
                    var e = try c.first()
                    while let entry = e {
                        out.append(try ConsumerCheckpoint(name: String(decoding: entry.key, as: UTF8.self), record: entry.value))
                        e = try c.next()
                    }
                    return out
                }
            }
        }
    }

    /// Creates the consumer or moves its checkpoint (forward or back) to `position`: it will
    /// resume after it. Refused (`consumer_held`) while a subscription of the consumer runs.
    @discardableResult
    package func setConsumerCheckpoint(_ name: String, to position: UInt64) async throws -> ConsumerCheckpoint {
        try ConsumerName.validate(name)
        guard !options.readOnly else { throw EventLogError(.readOnly, "\(path) is open read-only") }
        return try await mapErrors {
            try await env.write { [self] txn in
                try requireNotHeld(txn, name)
                return try putCheckpoint(txn, name, acknowledged: position, onlyForward: false)
            }
        }
    }

    /// Removes the consumer and its checkpoint (and filter); returns whether it existed.
    /// Refused (`consumer_held`) while a subscription of the consumer runs.
    @discardableResult
    package func removeConsumer(_ name: String) async throws -> Bool {
        try ConsumerName.validate(name)
        guard !options.readOnly else { throw EventLogError(.readOnly, "\(path) is open read-only") }
        let db = consumerRecords
        return try await mapErrors {
            try await env.write { [self] txn in
                try requireNotHeld(txn, name)
                return try Array(name.utf8).withUnsafeBytes { try txn.deleteRaw(db, $0) }
            }
        }
    }

    // MARK: Internals

    /// Writes the consumer's checkpoint record in `txn` (on the writer thread). With
    /// `onlyForward`, an older position than the stored one leaves the record as it is. With a
    /// `holder`, the write is refused (`consumer_held`) unless that subscription still holds the
    /// consumer's lease. The record keeps its filter, or records `filter` when it has none.
    func putCheckpoint(_ txn: WriteTransaction, _ name: String, acknowledged position: UInt64, onlyForward: Bool,
                       filter: SubscriptionFilter? = nil, holder: String? = nil) throws -> ConsumerCheckpoint
    {
        guard !options.readOnly else { throw EventLogError(.readOnly, "\(path) is open read-only") }
        if let holder { try requireHolder(txn, name, holder) }
        let key = Array(name.utf8)
        let existing = try checkpointRecord(txn, name)
        if onlyForward, let existing, existing.acknowledged >= position {
            return existing
        }
        let chain: ChainHash
        if position == 0 {
            chain = .genesis
        } else {
            guard let c = try UInt64BE.withBytes(of: position, { k in
                try txn.withRawValue(events, forRawKey: k) { v -> ChainHash in try StoredEvent(v, at: position).chainHash }
            }) else {
                throw EventLogError(.positionOutOfRange, "cannot set consumer \(name) to position \(position): no such event")
            }
            chain = c
        }
        let checkpoint = ConsumerCheckpoint(name: name, acknowledged: position, chainHash: chain, updatedAt: storeTime(txn),
                                            filter: existing?.filter ?? filter)
        let record = checkpoint.record()
        try key.withUnsafeBytes { k in try record.withUnsafeBytes { v in try txn.putRaw(consumerRecords, k, v) } }
        return checkpoint
    }

    // MARK: SubscriptionSource

    package func advanceConsumerCheckpoint(_ name: String, to position: UInt64, filter: SubscriptionFilter, holder: String?) async throws {
        try await mapErrors {
            try await env.write { [self] txn in
                _ = try putCheckpoint(txn, name, acknowledged: position, onlyForward: true, filter: filter, holder: holder)
            }
        }
    }

    package func advanceConsumerCheckpointLater(_ name: String, to position: UInt64, filter: SubscriptionFilter, holder: String?) {
        env.onWriterThread { [self] in
            _ = try? env.performWrite { txn in
                try putCheckpoint(txn, name, acknowledged: position, onlyForward: true, filter: filter, holder: holder)
            }
        }
    }

    /// The store directory's ``StoreChangeSignal``.
    package func acquireWakeSignal(watch: Bool) -> any StoreWakeSignal {
        StoreChangeSignal.acquire(path: path, watch: watch)
    }

    package func readSubscriptionChunk(from: UInt64, filter: CompiledFilter, options: SubscriptionOptions) throws -> SubscriptionChunk {
        try mapErrorsSync {
            try env.read { txn in
                try txn.withCursor(events) { c in
                    var out: [RawEvent] = []
                    var scannedThrough = from - 1
                    var examined = 0, bytes = 0
                    var e = try c.seek(atLeast: UInt64BE.bytes(from))
                    while let entry = e {
                        let p = try UInt64BE.decode(entry.key)
                        let stored = try StoredEvent(entry.value, at: p)
                        if filter.matches(stored.json) {
                            out.append(RawEvent(position: p, stored: stored))
                            bytes += stored.json.count
                        }
                        scannedThrough = p
                        examined += 1
                        if out.count >= options.chunkSize || examined >= options.scanLimit || bytes >= options.chunkBytes { break }
                        e = try c.next()
                    }
                    return SubscriptionChunk(events: out, scannedThrough: scannedThrough)
                }
            }
        }
    }
}
