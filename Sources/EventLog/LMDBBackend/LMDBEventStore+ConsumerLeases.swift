#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import LMDB

/// Consumer leases: one live subscription per consumer name across every process on the store
/// (see ``ConsumerLease``).
extension LMDBEventStore {
    /// Every consumer lease in the store, by consumer name, including lapsed ones (see
    /// ``ConsumerLease/isHolderAlive(now:)``).
    package func consumerLeases() throws -> [ConsumerLease] {
        guard let db = consumerLeaseTable else { return [] }
        return try mapErrorsSync {
            try env.read { txn in
                try txn.withCursor(db) { c in
                    var out: [ConsumerLease] = []
                    var e = try c.first()
                    while let entry = e {
                        let name = String(decoding: entry.key, as: UTF8.self)
                        if let lease = ConsumerLease(consumer: name, record: entry.value) { out.append(lease) }
                        e = try c.next()
                    }
                    return out
                }
            }
        }
    }

    /// The lease of the named consumer, live or lapsed, or `nil`.
    package func consumerLease(_ name: String) throws -> ConsumerLease? {
        try ConsumerName.validate(name)
        guard consumerLeaseTable != nil else { return nil }
        return try mapErrorsSync { try env.read { txn in try leaseRecord(txn, name) } }
    }

    // MARK: Internals

    func leaseRecord(_ txn: ReadTransaction, _ name: String) throws -> ConsumerLease? {
        guard let db = consumerLeaseTable else { return nil }
        return try Array(name.utf8).withUnsafeBytes { k in
            try txn.withRawValue(db, forRawKey: k) { ConsumerLease(consumer: name, record: $0) }
        } ?? nil
    }

    func checkpointRecord(_ txn: ReadTransaction, _ name: String) throws -> ConsumerCheckpoint? {
        try Array(name.utf8).withUnsafeBytes { k in
            try txn.withRawValue(consumerRecords, forRawKey: k) { try ConsumerCheckpoint(name: name, record: $0) }
        }
    }

    private func writeLease(_ txn: WriteTransaction, _ lease: ConsumerLease) throws {
        guard let db = consumerLeaseTable else { throw EventLogError(.readOnly, "\(path) is open read-only") }
        let record = lease.record()
        try Array(lease.consumer.utf8).withUnsafeBytes { k in try record.withUnsafeBytes { v in try txn.putRaw(db, k, v) } }
    }

    /// Throws `consumer_held` when a live holder holds the consumer (admin changes while it runs).
    func requireNotHeld(_ txn: ReadTransaction, _ name: String) throws {
        if let lease = try leaseRecord(txn, name), lease.isHolderAlive(now: storeTime(txn)) {
            throw Self.heldError(lease)
        }
    }

    /// Throws `consumer_held` unless `holder` still holds the consumer's lease (a checkpoint write
    /// of a subscription whose lease was taken over is refused).
    func requireHolder(_ txn: ReadTransaction, _ name: String, _ holder: String) throws {
        let lease = try leaseRecord(txn, name)
        guard let lease, lease.holder == holder else {
            throw EventLogError(.consumerHeld, lease.map { "consumer \(name) was taken over by \($0.holderDescription)" }
                ?? "the lease of consumer \(name) was lost")
        }
    }

    static func heldError(_ lease: ConsumerLease) -> EventLogError {
        EventLogError(.consumerHeld,
            "consumer \(lease.consumer) is held by \(lease.holderDescription) (renewed at \(lease.renewedAt), expires at \(lease.expiresAt))")
    }

    /// Takes the consumer's lease for a new subscription with `filter` and returns it with the
    /// consumer's checkpoint: refused (`consumer_held`) while a live holder has it, and
    /// (`consumer_filter_mismatch`) when the checkpoint records another filter, unless `reset`,
    /// which removes the checkpoint first. A checkpoint without a filter adopts `filter`.
    func acquireConsumer(_ name: String, filter: SubscriptionFilter, reset: Bool, duration: Duration) throws
        -> (ConsumerLease, ConsumerCheckpoint?)
    {
        guard !options.readOnly, consumerLeaseTable != nil else { throw EventLogError(.readOnly, "\(path) is open read-only") }
        let holder = EventID.generate().description
        ActiveConsumerLeases.insert(holder)
        do {
            return try mapErrorsSync {
                try env.writeSync { [self] txn -> (ConsumerLease, ConsumerCheckpoint?) in
                    let now = storeTime(txn)
                    let lease = ConsumerLease(consumer: name, holder: holder, pid: getpid(),
                                              host: ConsumerLease.localHost, since: now, renewedAt: now,
                                              expiresAt: now.adding(duration), filter: filter,
                                              owner: ProcessIdentity.current)
                    try requireNotHeld(txn, name)
                    var checkpoint = try checkpointRecord(txn, name)
                    if reset, checkpoint != nil {
                        _ = try Array(name.utf8).withUnsafeBytes { try txn.deleteRaw(consumerRecords, $0) }
                        checkpoint = nil
                    }
                    if var c = checkpoint {
                        if let recorded = c.filter {
                            guard recorded == filter else {
                                throw EventLogError(.consumerFilterMismatch,
                                    "consumer \(name) follows \(recorded.summary), not \(filter.summary)")
                            }
                        } else {
                            c.filter = filter
                            let record = c.record()
                            try Array(name.utf8).withUnsafeBytes { k in
                                try record.withUnsafeBytes { v in try txn.putRaw(consumerRecords, k, v) }
                            }
                            checkpoint = c
                        }
                    }
                    try writeLease(txn, lease)
                    return (lease, checkpoint)
                }
            }
        } catch {
            ActiveConsumerLeases.remove(holder)
            throw error
        }
    }

    /// Extends the lease `holder` holds; `consumer_held` when another holder has taken it over.
    package func renewConsumerLease(_ name: String, holder: String, duration: Duration) async throws {
        try await mapErrors {
            try await env.write { [self] txn in
                try requireHolder(txn, name, holder)
                guard var lease = try leaseRecord(txn, name) else { return }
                let now = storeTime(txn)
                lease.renewedAt = now
                lease.expiresAt = now.adding(duration)
                try writeLease(txn, lease)
            }
        }
    }

    /// Deletes the lease when `holder` still holds it.
    package func releaseConsumerLease(_ name: String, holder: String) async throws {
        ActiveConsumerLeases.remove(holder)
        guard !options.readOnly else { return }
        try await mapErrors { try await env.write { [self] txn in try deleteLease(txn, name, holder: holder) } }
    }

    /// Like ``releaseConsumerLease(_:holder:)`` without waiting: runs on the writer thread after
    /// every write already submitted (such as the last checkpoint).
    package func releaseConsumerLeaseLater(_ name: String, holder: String) {
        ActiveConsumerLeases.remove(holder)
        guard !options.readOnly else { return }
        env.onWriterThread { [self] in _ = try? env.performWrite { txn in try deleteLease(txn, name, holder: holder) } }
    }

    /// The store's clock at the start of `txn` (``KeyValueReader/storeTime``).
    func storeTime(_ txn: ReadTransaction) -> Timestamp {
        LMDBTables(read: txn, handles: [:], events: events).storeTime
    }

    private func deleteLease(_ txn: WriteTransaction, _ name: String, holder: String) throws {
        guard let db = consumerLeaseTable, try leaseRecord(txn, name)?.holder == holder else { return }
        _ = try Array(name.utf8).withUnsafeBytes { try txn.deleteRaw(db, $0) }
    }
}

extension Timestamp {
    /// This time plus `duration` (whole milliseconds).
    package func adding(_ duration: Duration) -> Timestamp {
        let c = duration.components
        return Timestamp(millisecondsSinceEpoch: millisecondsSinceEpoch + c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000)
    }
}
