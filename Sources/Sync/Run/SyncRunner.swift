import CanonicalJSON
package import EventLog
import Foundation
package import Inventory
package import Logging

/// Runs syncs: takes the run lock and a concurrency slot, reads the source, and appends the
/// run's events. Every run ends with exactly one `inventory.sync_run_finished`.
package final class SyncRunner: Sendable {
    /// Limits and timings.
    package struct Options: Sendable {
        /// Live runs allowed at once across every process on the store.
        package var globalLimit: Int
        /// Live runs allowed at once per tenant.
        package var perTenantLimit: Int
        /// Live runs of this process beyond the limits always wait for their turn; with `wait`,
        /// a run also waits when *other processes'* runs hold its concurrency slot or its
        /// tenant + selection lock, instead of being recorded as skipped.
        package var wait: Bool
        /// Longest wait for other processes' runs (with `wait`); then the run is skipped.
        package var maxWait: Duration
        /// How long a lease lasts without a heartbeat.
        package var leaseDuration: Duration
        /// Items per append.
        package var batchSize: Int
        /// Items of one run appended and not yet committed, at most: the source reads on
        /// while its earlier pages are appended, and waits beyond this (one append always goes).
        package var itemsInFlight: Int
        /// Where skipped runs and reclaimed dead runs are logged (at `notice`); discards by default.
        package var logger: Logger

        package init(globalLimit: Int = 16, perTenantLimit: Int = 2, wait: Bool = false, maxWait: Duration = .seconds(600),
                    leaseDuration: Duration = .seconds(60), batchSize: Int = 5000, itemsInFlight: Int = 30_000,
                    logger: Logger = Logger(label: "atlas.sync", factory: { _ in SwiftLogNoOpLogHandler() })) {
            self.globalLimit = globalLimit
            self.perTenantLimit = perTenantLimit
            self.wait = wait
            self.maxWait = maxWait
            self.leaseDuration = leaseDuration
            self.batchSize = batchSize
            self.itemsInFlight = itemsInFlight
            self.logger = logger
        }
    }

    package let store: any EventStore
    package let options: Options
    let holder: LeaseHolder
    let queue: RunQueue

    /// The state tables the runner needs; pass them when opening the store.
    package static let stateTables = ["run_leases"]

    package init(store: any EventStore, options: Options = .init(), holder: LeaseHolder = .current) {
        self.store = store
        self.options = options
        self.holder = holder
        self.queue = RunQueue(globalLimit: options.globalLimit, perTenantLimit: options.perTenantLimit)
    }

    /// Runs one sync of `tenant` (canonicalized, see ``TenantID``) + `selection` from `source`.
    ///
    /// - Throws: ``TenantID/Invalid`` for a tenant that is empty, has whitespace or control
    ///   characters, or is longer than ``InventoryLimits/tenantBytes``, before anything is stored.
    package func run(tenant: String, selection: Selection, source: any InventorySource,
                    correlationID: String? = nil, progress: (@Sendable (String, SourceProgress) -> Void)? = nil) async throws -> SyncSummary {
        let tenant = try TenantID(tenant).value  // the canonical form; a bad tenant fails before anything is stored
        let clock = ContinuousClock.now
        let runID = EventID.generate().description
        let correlation = correlationID ?? EventID.generate().description
        let hash = selection.hash
        let types = selection.resolvedTypes
        let started = SyncRunStarted(runID: runID, selectionHash: hash, selection: selection.json,
                                     resolvedTypes: types.map(\.key), source: source.kind, correlationID: correlation)
        let startEvent = EventEnvelope(type: InventoryEventType.syncRunStarted, tenant: tenant, correlationID: correlation, data: started.data)

        // 1. This process's turn under the limits, then lock + slot + start event, atomically;
        //    or a skipped run.
        holder.begin(runID)
        defer { holder.end(runID) }
        let turn: RunQueue.Turn
        do {
            turn = try await queue.acquire(tenant: tenant, selectionHash: hash)
        } catch {
            var summary = try await recordSkipped(Skip(code: .cancelled, message: "the run was cancelled while waiting for its turn"),
                                                  startEvent: startEvent, runID: runID, tenant: tenant, hash: hash, correlation: correlation)
            summary.durationSeconds = Self.seconds(since: clock)
            return summary
        }
        do {
            var summary = try await runWithTurn(runID: runID, tenant: tenant, hash: hash, correlation: correlation, types: types,
                                                startEvent: startEvent, source: source, progress: progress)
            await queue.release(turn)
            summary.durationSeconds = Self.seconds(since: clock)
            return summary
        } catch {
            await queue.release(turn)
            throw error
        }
    }

    /// Records `skip` as a skipped run: its start event and its finish event at once.
    func recordSkipped(_ skip: Skip, startEvent: EventEnvelope, runID: String, tenant: String, hash: String,
                       correlation: String) async throws -> SyncSummary {
        let finished = SyncRunFinished(runID: runID, selectionHash: hash, status: .skipped, hadErrors: false, observed: 0,
                                       upserted: 0, errors: 0, errorCodes: [skip.code], errorContext: [skip.message])
        try await store.append([startEvent, EventEnvelope(type: InventoryEventType.syncRunFinished, tenant: tenant,
                                                         correlationID: correlation, data: finished.data)])
        options.logger.notice("run skipped", metadata: [
            "tenant": "\(tenant)", "run": "\(runID)", "selection": "\(hash)", "code": "\(skip.code.rawValue)",
            "reason": "\(skip.message)",
        ])
        return SyncSummary(tenant: tenant, runID: runID, status: .skipped, selectionHash: hash, observed: 0, upserted: 0,
                           errors: 0, errorCodes: [skip.code], types: [:])
    }

    /// The run once this process has given it a turn: the lease, the source, the finish.
    func runWithTurn(runID: String, tenant: String, hash: String, correlation: String, types: [PolicyType],
                     startEvent: EventEnvelope, source: any InventorySource,
                     progress: (@Sendable (String, SourceProgress) -> Void)?) async throws -> SyncSummary {
        let waitStart = ContinuousClock.now
        var delay = Duration.milliseconds(100)
        while true {
            try await reclaimDeadRuns()
            let lease = makeLease(runID: runID, tenant: tenant, hash: hash, correlation: correlation)
            do {
                try await store.append([startEvent], precondition: acquire(lease))
                break
            } catch let refusal as LeaseRefusal {
                switch refusal {
                case .holderDead: continue  // reclaimed on the next turn of the loop
                case .heldByLiveRun, .globalLimit, .tenantLimit: break
                }
                let waited = ContinuousClock.now - waitStart
                if options.wait && waited < options.maxWait {
                    try await Task.sleep(for: min(delay, options.maxWait - waited))
                    delay = min(delay * 2, .seconds(2))
                    continue
                }
                var reason = refusal.skip
                if options.wait {
                    reason.message += "; gave up after waiting \(Self.seconds(waited)) s (the wait limit is \(Self.seconds(options.maxWait)) s)"
                }
                return try await recordSkipped(reason, startEvent: startEvent, runID: runID, tenant: tenant, hash: hash,
                                               correlation: correlation)
            }
        }

        // 2. Read the source while a heartbeat keeps the lease alive.
        let recorder = RunRecorder(store: store, tenant: tenant, runID: runID, selectionHash: hash, correlationID: correlation,
                                   types: types, redactor: Redactor(secrets: source.secrets), options: options,
                                   leaseCheck: ownsLease(tenant: tenant, hash: hash, runID: runID), progress: progress)
        let heartbeat = Task { [self] in
            let interval = options.leaseDuration / 3
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                try? await renew(tenant: tenant, hash: hash, runID: runID)
            }
        }
        defer { heartbeat.cancel() }
        await withTaskCancellationHandler {
            await source.enumerate(tenant: tenant, types: types, into: recorder)
        } onCancel: {
            Task { await recorder.record(SourceError(.cancelled, "the run was cancelled")) }
        }
        if Task.isCancelled { await recorder.record(SourceError(.cancelled, "the run was cancelled")) }

        // 3. Finish: the finish event and the lease release in one transaction.
        let finished = await recorder.finish()
        let totals = await recorder.retryTotals()
        let finishEvent = EventEnvelope(type: InventoryEventType.syncRunFinished, tenant: tenant, correlationID: correlation, data: finished.data)
        do {
            try await store.append([finishEvent], precondition: release(tenant: tenant, hash: hash, runID: runID))
        } catch is LeaseLost {
            // Another process found this run dead and finished it as abandoned.
            return SyncSummary(tenant: tenant, runID: runID, status: .failed, selectionHash: hash, observed: finished.observed,
                               upserted: finished.upserted, errors: finished.errors + 1, errorCodes: [.abandoned],
                               types: await recorder.typeOutcomes(), retries: totals.retries, throttledSeconds: totals.throttledSeconds)
        }
        return SyncSummary(tenant: tenant, runID: runID, status: finished.status, selectionHash: hash, observed: finished.observed,
                           upserted: finished.upserted, errors: finished.errors, errorCodes: finished.errorCodes,
                           types: await recorder.typeOutcomes(), retries: totals.retries, throttledSeconds: totals.throttledSeconds)
    }

    // MARK: Lease and slots

    static func seconds(_ d: Duration) -> String {
        String(format: "%.1f", Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
    }

    /// Seconds elapsed since `start`.
    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    struct LeaseLost: Error {}

    func makeLease(runID: String, tenant: String, hash: String, correlation: String) -> RunLease {
        // The monotonic deadline is taken before the wall-clock expiry, so it is never later.
        holder.renewed(runID, until: ContinuousClock.now + options.leaseDuration)
        let now = Timestamp.now().millisecondsSinceEpoch
        return RunLease(runID: runID, tenant: tenant, selectionHash: hash, correlationID: correlation, owner: holder.identity,
                        host: holder.host, processToken: holder.token, heartbeatAt: now,
                        expiresAt: now + Int64(options.leaseDuration.components.seconds * 1000))
    }

    func acquire(_ lease: RunLease) -> @Sendable (any KeyValueWriter) throws -> Void {
        let holder = self.holder
        let globalLimit = options.globalLimit
        let tenantLimit = options.perTenantLimit
        let duration = Int64(options.leaseDuration.components.seconds * 1000)
        return { tables in
            // The heartbeat and expiry are the store's clock at this transaction, which every
            // writer (on any host) compares against.
            let now = tables.storeTime.millisecondsSinceEpoch
            var lease = lease
            lease.heartbeatAt = now
            lease.expiresAt = now + duration
            let lockKey = LeaseKey.lock(tenant: lease.tenant, selectionHash: lease.selectionHash).encoded
            if let current = try tables.withValue(RunLease.table, lockKey, { RunLease(decoding: $0) }) ?? nil {
                throw current.isLive(now: now, holder: holder) ? LeaseRefusal.heldByLiveRun(current) : LeaseRefusal.holderDead
            }
            var global = 0
            var tenant = 0
            try tables.scan(RunLease.table, prefix: LeaseKey.slotPrefix) { _, v in
                if let s = RunLease(decoding: v), s.isLive(now: now, holder: holder) {
                    global += 1
                    if s.tenant == lease.tenant { tenant += 1 }
                }
                return true
            }
            if global >= globalLimit {
                throw LeaseRefusal.globalLimit(live: global, limit: globalLimit)
            }
            if tenant >= tenantLimit {
                throw LeaseRefusal.tenantLimit(tenant: lease.tenant, live: tenant, limit: tenantLimit)
            }
            try tables.put(RunLease.table, lockKey, lease.encoded)
            try tables.put(RunLease.table, LeaseKey.slot(tenant: lease.tenant, runID: lease.runID).encoded, lease.encoded)
        }
    }

    func ownsLease(tenant: String, hash: String, runID: String) -> @Sendable (any KeyValueWriter) throws -> Void {
        { tables in
            let holder = try tables.withValue(RunLease.table, LeaseKey.lock(tenant: tenant, selectionHash: hash).encoded) { RunLease(decoding: $0) } ?? nil
            guard holder?.runID == runID else { throw LeaseLost() }
        }
    }

    func release(tenant: String, hash: String, runID: String) -> @Sendable (any KeyValueWriter) throws -> Void {
        let owns = ownsLease(tenant: tenant, hash: hash, runID: runID)
        return { tables in
            try owns(tables)
            try tables.delete(RunLease.table, LeaseKey.lock(tenant: tenant, selectionHash: hash).encoded)
            try tables.delete(RunLease.table, LeaseKey.slot(tenant: tenant, runID: runID).encoded)
        }
    }

    func renew(tenant: String, hash: String, runID: String) async throws {
        let duration = Int64(options.leaseDuration.components.seconds * 1000)
        let started = ContinuousClock.now
        let renewed = try await store.updateState { tables -> Bool in
            let key = LeaseKey.lock(tenant: tenant, selectionHash: hash).encoded
            guard var lease = try tables.withValue(RunLease.table, key, { RunLease(decoding: $0) }) ?? nil, lease.runID == runID else { return false }
            let now = tables.storeTime.millisecondsSinceEpoch
            lease.heartbeatAt = now
            lease.expiresAt = now + duration
            try tables.put(RunLease.table, key, lease.encoded)
            try tables.put(RunLease.table, LeaseKey.slot(tenant: tenant, runID: runID).encoded, lease.encoded)
            return true
        }
        if renewed { holder.renewed(runID, until: started + options.leaseDuration) }
    }

    /// Finishes runs whose owner died (process gone or lease expired) as `failed` with code
    /// `abandoned`, and frees their lock and slot.
    package func reclaimDeadRuns() async throws {
        let holder = self.holder
        let dead: [RunLease] = try store.read { tables in
            let now = tables.storeTime.millisecondsSinceEpoch
            var out: [RunLease] = []
            try tables.scan(RunLease.table, prefix: LeaseKey.slotPrefix) { _, v in
                if let s = RunLease(decoding: v), !s.isLive(now: now, holder: holder) { out.append(s) }
                return true
            }
            try tables.scan(RunLease.table, prefix: LeaseKey.lockPrefix) { _, v in
                if let s = RunLease(decoding: v), !s.isLive(now: now, holder: holder), !out.contains(where: { $0.runID == s.runID }) {
                    out.append(s)
                }
                return true
            }
            return out
        }
        for lease in dead {
            let finished = SyncRunFinished(
                runID: lease.runID, selectionHash: lease.selectionHash, status: .failed, hadErrors: true, observed: 0, upserted: 0,
                errors: 1, errorCodes: [.abandoned],
                errorContext: ["the run's process (\(lease.ownerDescription)) stopped without finishing it; its lease expired at \(Timestamp(millisecondsSinceEpoch: lease.expiresAt)) or its process is gone"])
            let event = EventEnvelope(type: InventoryEventType.syncRunFinished, tenant: lease.tenant,
                                      correlationID: lease.correlationID.isEmpty ? nil : lease.correlationID, data: finished.data)
            do {
                try await store.append([event]) { tables in
                    let slotKey = LeaseKey.slot(tenant: lease.tenant, runID: lease.runID).encoded
                    let lockKey = LeaseKey.lock(tenant: lease.tenant, selectionHash: lease.selectionHash).encoded
                    let slot = try tables.withValue(RunLease.table, slotKey) { RunLease(decoding: $0) } ?? nil
                    let lock = try tables.withValue(RunLease.table, lockKey) { RunLease(decoding: $0) } ?? nil
                    let current = slot ?? (lock?.runID == lease.runID ? lock : nil)
                    guard let current, current.runID == lease.runID,
                          !current.isLive(now: tables.storeTime.millisecondsSinceEpoch, holder: holder)
                    else { throw AlreadyReclaimed() }
                    try tables.delete(RunLease.table, slotKey)
                    if lock?.runID == lease.runID { try tables.delete(RunLease.table, lockKey) }
                }
            } catch is AlreadyReclaimed {
                continue
            }
            options.logger.notice("reclaimed a dead run: finished it as failed (abandoned) and freed its lease", metadata: [
                "tenant": "\(lease.tenant)", "run": "\(lease.runID)", "selection": "\(lease.selectionHash)",
                "pid": "\(lease.owner.pid)", "pid_namespace": "\(lease.owner.pidNamespace)", "host": "\(lease.host)",
                "expired_at": "\(Timestamp(millisecondsSinceEpoch: lease.expiresAt))",
            ])
        }
    }
}
