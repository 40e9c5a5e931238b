package import EventLog
import Foundation
import NIOCore
import PostgresNIO

extension PostgresEventStore {
    /// Named consumers' checkpoints: consumer name → checkpoint record (as LMDB's `consumers`).
    static let consumerTable = StoreTable.state("atlas.consumers")
    static let leaseTable = StoreTable.state(ConsumerLease.tableName)

    /// Runs `body` in a write transaction over the state tables, serialized with appends by the
    /// head lock.
    func writeState<R>(_ body: (OverlayTables) throws -> R) throws -> R {
        guard !options.readOnly else { throw EventLogError(.readOnly, "\(url) is open read-only") }
        return try pool.withSession { s in
            try s.transaction {
                try s.execute(writeSettings)
                _ = try lockHead(s)
                let tables = OverlayTables(session: s, ids: try tableIDs(s, generations: [:]))
                let r = try body(tables)
                try tables.flush()
                return r
            }
        }
    }

    /// Runs `body` in a read-only snapshot of the state tables.
    func readState<R>(_ body: (SnapshotTables) throws -> R) throws -> R {
        try pool.withSession { s in
            try s.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") {
                try body(SnapshotTables(session: s, ids: try tableIDs(s, generations: [:])))
            }
        }
    }

    // MARK: Consumers

    package func consumerCheckpoint(_ name: String) throws -> ConsumerCheckpoint? {
        try ConsumerName.validate(name)
        return try readState { try Self.checkpoint($0, name) }
    }

    static func checkpoint(_ r: any KeyValueReader, _ name: String) throws -> ConsumerCheckpoint? {
        try r.withValue(consumerTable, Array(name.utf8)) { try ConsumerCheckpoint(name: name, record: $0) }
    }

    static func lease(_ r: any KeyValueReader, _ name: String) throws -> ConsumerLease? {
        try r.withValue(leaseTable, Array(name.utf8)) { ConsumerLease(consumer: name, record: $0) } ?? nil
    }

    package func consumers() throws -> [ConsumerCheckpoint] {
        try readState { r in
            var out: [ConsumerCheckpoint] = []
            try r.scan(Self.consumerTable, prefix: []) { k, v in
                out.append(try ConsumerCheckpoint(name: String(decoding: k, as: UTF8.self), record: v))
                return true
            }
            return out
        }
    }

    package func consumerLeases() throws -> [ConsumerLease] {
        try readState { r in
            var out: [ConsumerLease] = []
            try r.scan(Self.leaseTable, prefix: []) { k, v in
                if let l = ConsumerLease(consumer: String(decoding: k, as: UTF8.self), record: v) { out.append(l) }
                return true
            }
            return out
        }
    }

    package func consumerLease(_ name: String) throws -> ConsumerLease? {
        try ConsumerName.validate(name)
        return try readState { try Self.lease($0, name) }
    }

    @discardableResult
    package func setConsumerCheckpoint(_ name: String, to position: UInt64) async throws -> ConsumerCheckpoint {
        try ConsumerName.validate(name)
        return try await onBlockingThread { [self] in
            try writeState { t in
                try requireNotHeld(t, name)
                return try putCheckpoint(t, name, acknowledged: position, onlyForward: false)
            }
        }
    }

    @discardableResult
    package func removeConsumer(_ name: String) async throws -> Bool {
        try ConsumerName.validate(name)
        return try await onBlockingThread { [self] in
            try writeState { t in
                try requireNotHeld(t, name)
                return try t.delete(Self.consumerTable, Array(name.utf8))
            }
        }
    }

    func requireNotHeld(_ t: any KeyValueReader, _ name: String) throws {
        if let lease = try Self.lease(t, name), lease.isHolderAlive(now: t.storeTime) {
            throw EventLogError(.consumerHeld,
                "consumer \(name) is held by \(lease.holderDescription) (renewed at \(lease.renewedAt), expires at \(lease.expiresAt))")
        }
    }

    func requireHolder(_ t: any KeyValueReader, _ name: String, _ holder: String) throws {
        let lease = try Self.lease(t, name)
        guard let lease, lease.holder == holder else {
            throw EventLogError(.consumerHeld, lease.map { "consumer \(name) was taken over by \($0.holderDescription)" }
                ?? "the lease of consumer \(name) was lost")
        }
    }

    func putCheckpoint(_ t: OverlayTables, _ name: String, acknowledged position: UInt64, onlyForward: Bool,
                       filter: SubscriptionFilter? = nil, holder: String? = nil) throws -> ConsumerCheckpoint {
        if let holder { try requireHolder(t, name, holder) }
        let existing = try Self.checkpoint(t, name)
        if onlyForward, let existing, existing.acknowledged >= position { return existing }
        let chain: ChainHash
        if position == 0 {
            chain = .genesis
        } else {
            guard let e = try t.rawEvent(at: position) else {
                throw EventLogError(.positionOutOfRange, "cannot set consumer \(name) to position \(position): no such event")
            }
            chain = e.chainHash
        }
        let checkpoint = ConsumerCheckpoint(name: name, acknowledged: position, chainHash: chain, updatedAt: t.storeTime,
                                            filter: existing?.filter ?? filter)
        try t.put(Self.consumerTable, Array(name.utf8), checkpoint.record())
        return checkpoint
    }

    // MARK: Subscriptions

    package func subscribe(after position: UInt64, filter: SubscriptionFilter, options: SubscriptionOptions) throws -> EventSubscription {
        let head = try head().position
        guard position <= head else {
            throw EventLogError(.positionOutOfRange, "cannot subscribe after position \(position): the head is \(head)")
        }
        return EventSubscription(store: self, after: position, consumer: nil, filter: filter, options: options)
    }

    package func subscribe(
        consumer name: String, filter: SubscriptionFilter, startingAfter: UInt64, reset: Bool, options: SubscriptionOptions
    ) throws -> EventSubscription {
        try ConsumerName.validate(name)
        let holder = EventID.generate().description
        ActiveConsumerLeases.insert(holder)
        let lease: ConsumerLease
        let checkpoint: ConsumerCheckpoint?
        do {
            (lease, checkpoint) = try writeState { t -> (ConsumerLease, ConsumerCheckpoint?) in
                let now = t.storeTime
                let lease = ConsumerLease(consumer: name, holder: holder, pid: getpid(), host: ConsumerLease.localHost, since: now,
                                          renewedAt: now, expiresAt: now.adding(options.leaseDuration), filter: filter,
                                          owner: ProcessIdentity.current)
                try requireNotHeld(t, name)
                var checkpoint = try Self.checkpoint(t, name)
                if reset, checkpoint != nil {
                    try t.delete(Self.consumerTable, Array(name.utf8))
                    checkpoint = nil
                }
                if var c = checkpoint {
                    if let recorded = c.filter {
                        guard recorded == filter else {
                            throw EventLogError(.consumerFilterMismatch, "consumer \(name) follows \(recorded.summary), not \(filter.summary)")
                        }
                    } else {
                        c.filter = filter
                        try t.put(Self.consumerTable, Array(name.utf8), c.record())
                        checkpoint = c
                    }
                }
                try t.put(Self.leaseTable, Array(name.utf8), lease.record())
                return (lease, checkpoint)
            }
        } catch {
            ActiveConsumerLeases.remove(holder)
            throw error
        }
        let start = checkpoint?.acknowledged ?? startingAfter
        let head: UInt64
        do { head = try self.head().position } catch {
            releaseConsumerLeaseLater(name, holder: holder)
            throw error
        }
        guard start <= head else {
            releaseConsumerLeaseLater(name, holder: holder)
            throw EventLogError(.positionOutOfRange, "consumer \(name) would start after position \(start), beyond the head \(head)")
        }
        return EventSubscription(store: self, after: start, consumer: name, filter: filter, options: options, lease: lease)
    }
}

extension PostgresEventStore: SubscriptionSource {
    /// Reads pages of at most ``SubscriptionOptions/chunkSize`` rows until the chunk is full,
    /// the scan limit is reached or the log ends: an unfiltered subscription reads exactly the
    /// rows it returns, a filtered one no more than it examines.
    package func readSubscriptionChunk(from: UInt64, filter: CompiledFilter, options: SubscriptionOptions) throws -> SubscriptionChunk {
        try pool.withSession { s in
            var out: [RawEvent] = []
            var scannedThrough = from - 1
            var bytes = 0
            var scanned = 0
            while scanned < options.scanLimit {
                let page = min(options.chunkSize, options.scanLimit - scanned)
                let rows = try s.query("""
                    SELECT position, chain, envelope FROM atlas.events WHERE position > \(Int64(scannedThrough))
                    ORDER BY position LIMIT \(Int64(page))
                    """)
                for row in rows {
                    let e = try SnapshotTables.decodeEvent(row)
                    guard e.position == scannedThrough + 1 else {
                        throw EventLogError(.corruptEvent, "gap in the log: position \(scannedThrough + 1) is missing")
                    }
                    scannedThrough = e.position
                    scanned += 1
                    if e.json.withUnsafeBytes({ filter.matches($0) }) {
                        out.append(e)
                        bytes += e.json.count
                        if out.count >= options.chunkSize || bytes >= options.chunkBytes {
                            return SubscriptionChunk(events: out, scannedThrough: scannedThrough)
                        }
                    }
                }
                if rows.count < page { break }
            }
            return SubscriptionChunk(events: out, scannedThrough: scannedThrough)
        }
    }

    package func advanceConsumerCheckpoint(_ name: String, to position: UInt64, filter: SubscriptionFilter, holder: String?) async throws {
        try await onBlockingThread { [self] in
            _ = try writeState { t in try putCheckpoint(t, name, acknowledged: position, onlyForward: true, filter: filter, holder: holder) }
        }
    }

    package func advanceConsumerCheckpointLater(_ name: String, to position: UInt64, filter: SubscriptionFilter, holder: String?) {
        // On the writer queue, so a release requested after it runs after it.
        writerQueue.async { [self] in
            _ = try? writeState { t in try putCheckpoint(t, name, acknowledged: position, onlyForward: true, filter: filter, holder: holder) }
        }
    }

    package func renewConsumerLease(_ name: String, holder: String, duration: Duration) async throws {
        try await onBlockingThread { [self] in
            try writeState { t in
                try requireHolder(t, name, holder)
                guard var lease = try Self.lease(t, name) else { return }
                let now = t.storeTime
                lease.renewedAt = now
                lease.expiresAt = now.adding(duration)
                try t.put(Self.leaseTable, Array(name.utf8), lease.record())
            }
        }
    }

    package func releaseConsumerLease(_ name: String, holder: String) async throws {
        ActiveConsumerLeases.remove(holder)
        guard !options.readOnly else { return }
        try await onBlockingThread { [self] in try writeState { t in try deleteLease(t, name, holder: holder) } }
    }

    package func releaseConsumerLeaseLater(_ name: String, holder: String) {
        ActiveConsumerLeases.remove(holder)
        guard !options.readOnly else { return }
        writerQueue.async { [self] in _ = try? writeState { t in try deleteLease(t, name, holder: holder) } }
    }

    private func deleteLease(_ t: OverlayTables, _ name: String, holder: String) throws {
        guard try Self.lease(t, name)?.holder == holder else { return }
        try t.delete(Self.leaseTable, Array(name.utf8))
    }

    /// The store's wake signal: shared by its subscriptions while one holds it, listening on
    /// its own connection; with `watch` off, a signal of this subscription's own that polls.
    package func acquireWakeSignal(watch: Bool) -> any StoreWakeSignal {
        guard watch else {
            return PostgresWakeSignal.start(url: url, listen: false, pollInterval: options.wakePollInterval,
                                            safetyRescan: options.wakeSafetyRescan)
        }
        return wakeLock.withLock {
            if let s = wakeSignal, s.retain() { return s }
            let s = PostgresWakeSignal.start(url: url, listen: true, pollInterval: options.wakePollInterval,
                                             safetyRescan: options.wakeSafetyRescan)
            wakeSignal = s
            return s
        }
    }
}
