import CanonicalJSON
import Foundation
import LMDB

/// An append waiting for the writer thread.
final class PendingAppend: Sendable {
    let events: [EncodedEvent]
    let precondition: (@Sendable (any KeyValueWriter) throws -> Void)?
    /// For ``LMDBEventStore/appendVerbatim(_:)``: the position and chain hash each event must
    /// get (the request fails, writing nothing, when one differs or an id is already stored).
    let verbatim: [(position: UInt64, chain: ChainHash)]?
    let continuation: CheckedContinuation<AppendResult, any Error>

    init(events: [EncodedEvent], precondition: (@Sendable (any KeyValueWriter) throws -> Void)?,
         verbatim: [(position: UInt64, chain: ChainHash)]? = nil,
         continuation: CheckedContinuation<AppendResult, any Error>) {
        self.events = events
        self.precondition = precondition
        self.verbatim = verbatim
        self.continuation = continuation
    }
}

/// Thrown inside a write when another process swapped in a rebuilt projection.
struct GenerationChanged: Error {}

extension LMDBEventStore {
    @discardableResult
    package func append(
        encoded prepared: [EncodedEvent],
        precondition: (@Sendable (any KeyValueWriter) throws -> Void)? = nil
    ) async throws -> AppendResult {
        try await enqueue(prepared, precondition: precondition, verbatim: nil)
    }

    package func appendVerbatim(_ events: [RawEvent]) async throws {
        guard let first = events.first else { return }
        var encoded: [EncodedEvent] = []
        encoded.reserveCapacity(events.count)
        for (i, e) in events.enumerated() {
            guard e.position == first.position + UInt64(i) else {
                throw EventLogError(.positionOutOfRange, "position \(e.position) follows position \(first.position + UInt64(i) - 1) in a verbatim append: positions must be consecutive")
            }
            do { encoded.append(try EncodedEvent(stored: e.json)) } catch {
                throw EventLogError(.invalidEvent, "the event at position \(e.position): \(error.message)")
            }
        }
        try await enqueue(encoded, precondition: nil, verbatim: events.map { ($0.position, $0.chainHash) })
    }

    private func enqueue(
        _ prepared: [EncodedEvent], precondition: (@Sendable (any KeyValueWriter) throws -> Void)?,
        verbatim: [(position: UInt64, chain: ChainHash)]?
    ) async throws -> AppendResult {
        guard !options.readOnly else { throw EventLogError(.readOnly, "\(path) is open read-only") }
        return try await withCheckedThrowingContinuation { continuation in
            let p = PendingAppend(events: prepared, precondition: precondition, verbatim: verbatim, continuation: continuation)
            if pending.add(p) { env.onWriterThread { [self] in drain() } }
        }
    }

    package func updateState<R: Sendable>(_ body: @escaping @Sendable (any KeyValueWriter) throws -> R) async throws -> R {
        guard !options.readOnly else { throw EventLogError(.readOnly, "\(path) is open read-only") }
        let handles = stateHandles
        let events = self.events
        return try await mapErrors {
            try await env.write { txn in try body(LMDBTables(write: txn, handles: handles, events: events)) }
        }
    }

    /// Takes every pending append and commits them together. Runs on the writer thread.
    private func drain() {
        let group = pending.takeAll()
        guard !group.isEmpty else { return }
        let outcomes: [Result<AppendResult, any Error>]
        do {
            outcomes = try commit(group)
        } catch {
            let mapped = Self.mapError(error, path: path)
            outcomes = group.map { _ in .failure(mapped) }
        }
        for (p, outcome) in zip(group, outcomes) { p.continuation.resume(with: outcome) }
        StoreChangeSignal.notifyLocalCommit(path: path)  // wake this process's subscribers
    }

    private func commit(_ group: [PendingAppend]) throws -> [Result<AppendResult, any Error>] {
        // Requests of a group are isolated: one that fails leaves the others' writes in place.
        // A precondition (which fails in normal operation: a lock held, a lease lost) runs in
        // a nested transaction of its own; the events are applied in the group's transaction,
        // because a nested transaction copies every page its parent dirtied before it and
        // merges its own back. Applying events fails only on bad input or a broken projection;
        // then the group is redone with each request wholly nested.
        var nestEvents = false
        while true {
            let (generations, handles) = cachedProjectionHandles()
            let allHandles = handles.merging(stateHandles) { a, _ in a }
            do {
                return try env.performWrite { txn in
                    try verifyGenerations(txn, generations)
                    var head = try readHead(txn)
                    try catchUpProjections(txn, handles: allHandles, head: head)
                    let isolated = group.count > 1
                    var ids = try GroupEventIDs(txn, eventIDs, expected: group.reduce(0) { $0 + $1.events.count })
                    var results: [Result<AppendResult, any Error>] = []
                    results.reserveCapacity(group.count)
                    for request in group {
                        let before = head
                        let mark = ids.mark
                        do {
                            let r: (positions: [UInt64], written: Int, tallies: [String: Int])
                            if !isolated {
                                r = try apply(request, in: txn, handles: allHandles, head: &head, ids: &ids)
                            } else if nestEvents {
                                r = try txn.nested { child in try apply(request, in: child, handles: allHandles, head: &head, ids: &ids) }
                            } else {
                                if let precondition = request.precondition {
                                    try txn.nested { child in
                                        try precondition(LMDBTables(write: child, handles: allHandles, events: events))
                                    }
                                }
                                do {
                                    r = try apply(request, in: txn, handles: allHandles, head: &head, ids: &ids, checked: true)
                                } catch {
                                    if Self.abortsGroup(error) { throw error }
                                    throw RedoNested()
                                }
                            }
                            results.append(.success(AppendResult(positions: r.positions, written: r.written, head: .empty, tallies: r.tallies)))
                        } catch {
                            if Self.abortsGroup(error) || !isolated || error is RedoNested { throw error }
                            head = before
                            ids.rollBack(to: mark)
                            results.append(.failure(Self.mapError(error)))
                        }
                    }
                    try ids.write(to: txn, eventIDs)
                    try writeCheckpoints(txn, head: head)
                    let final = head
                    return results.map { $0.map { var r = $0; r.head = final; return r } }
                }
            } catch is GenerationChanged {
                try refreshProjectionHandles()
                continue
            } catch is RedoNested {
                nestEvents = true
                continue
            }
        }
    }

    /// Applying a request's events failed in the group's transaction: redo the group with each
    /// request in a nested transaction.
    private struct RedoNested: Error {}

    /// Applies `event` to each projection of `ps` that consumes its type (`filter` was made
    /// from `ps`). An error that must abort the group passes through; any other names the
    /// projection and position.
    static func apply(_ ps: [any Projection], filter: inout ProjectionFilter, to event: ProjectionEvent, tables: any KeyValueWriter) throws {
        let mask = filter.mask(for: event.type)
        for (i, p) in ps.enumerated() where filter.consumes(i, mask: mask, type: event.type) {
            do { try p.apply(event, to: tables) } catch {
                if abortsGroup(error) { throw error }
                throw EventLogError(.projectionFailed, "projection \(p.name) failed at position \(event.position): \(error)")
            }
        }
    }

    /// Errors that must abort the whole group (and may be retried), not just one request.
    static func abortsGroup(_ error: any Error) -> Bool {
        if error is GenerationChanged { return true }
        if let e = error as? LMDBError {
            return e.code == LMDBError.mapFull || e.code == LMDBError.mapResized || e.code == ENOSPC || e.code == EIO
        }
        return false
    }

    /// Applies `request` (its precondition too, unless `checked`) in `txn`. The ids of its new
    /// events are added to `ids`, which the group writes to `event_ids` when it ends.
    private func apply(
        _ request: PendingAppend, in txn: WriteTransaction, handles: [StoreTable: RawDatabase], head: inout LogHead,
        ids: inout GroupEventIDs, checked: Bool = false
    ) throws -> (positions: [UInt64], written: Int, tallies: [String: Int]) {
        let tables = LMDBTables(write: txn, handles: handles, events: events)
        if !checked, let precondition = request.precondition { try precondition(tables) }
        var positions: [UInt64] = []
        positions.reserveCapacity(request.events.count)
        var written = 0
        // The `tenant_events` key: its prefix is rebuilt only when the tenant changes.
        var tenantKey: [UInt8] = []
        var tenantPrefixBytes = 0
        var keyTenant: String?
        let memo = ProjectionEvent.Memo()
        var filter = ProjectionFilter(sets: projectionFilters)
        // Positions grow by one: every event is appended after the last without a search.
        try txn.withAppender(events) { appender in
            for (i, e) in request.events.enumerated() {
                if let expected = request.verbatim?[i], expected.position != head.position + 1 {
                    throw EventLogError(.positionOutOfRange,
                        "the events start at position \(expected.position - UInt64(i)), but the head is at position \(head.position - UInt64(i))")
                }
                // An event already stored (a retried append) or twice in this group keeps its position.
                if let earlier = try ids.position(of: e.id, in: txn, eventIDs) {
                    if request.verbatim != nil {
                        throw EventLogError(.invalidEvent, "event \(e.id) is already in the log at position \(earlier)")
                    }
                    positions.append(earlier)
                    continue
                }
                let position = head.position + 1
                let chain = formatVersion >= 2
                    ? ChainHash.next(after: head.chainHash, position: position, digest: e.digest ?? e.withJSON { EventDigest(json: $0) })
                    : e.withJSON { ChainHash.next(after: head.chainHash, position: position, json: $0) }
                if let expected = request.verbatim?[i] {
                    guard expected.chain == chain else {
                        throw EventLogError(.corruptEvent,
                            "the chain hash of position \(position) is \(chain) here, not \(expected.chain) as given")
                    }
                }
                try UInt64BE.withBytes(of: position) { key in
                    try appender.appendReserved(key, size: StoredEvent.size(jsonBytes: e.jsonCount)) { out in
                        chain.withUnsafeBytes { chain in e.withJSON { StoredEvent.write(into: out, chain: chain, json: $0) } }
                    }
                    ids.add(e.id, at: position)
                    let tenant = e.tenant
                    if tenant != keyTenant {
                        tenantKey = TenantEventKey.prefix(tenant)
                        tenantPrefixBytes = tenantKey.count
                        keyTenant = tenant
                    }
                    TenantEventKey.setPosition(key, in: &tenantKey, prefixBytes: tenantPrefixBytes)
                    try tenantKey.withUnsafeBytes { try txn.putRaw(tenantEvents, $0, UnsafeRawBufferPointer(start: nil, count: 0)) }
                }
                head = LogHead(position: position, chainHash: chain)
                if !projections.isEmpty {
                    try e.withJSON { json in
                        try chain.withUnsafeBytes { chainBytes in
                            let event = ProjectionEvent(position: position, chain: chainBytes, json: json, encoded: e, memo: memo)
                            try Self.apply(projections, filter: &filter, to: event, tables: tables)
                        }
                    }
                }
                positions.append(position)
                written += 1
            }
        }
        return (positions, written, tables.tallies.isEmpty ? [:] : tables.tallyCounts)
    }

    func readHead(_ txn: ReadTransaction) throws -> LogHead {
        try txn.withCursor(events) { c in
            guard let last = try c.last() else { return .empty }
            let position = try UInt64BE.decode(last.key)
            return LogHead(position: position, chainHash: try StoredEvent(last.value, at: position).chainHash)
        }
    }

    static func mapError(_ error: any Error, path: String? = nil) -> any Error {
        guard let e = error as? LMDBError else { return error }
        switch e.code {
        case LMDBError.mapFull, LMDBError.mapSizeLimit, ENOSPC:
            return EventLogError(.storageFull, "the store is full: \(e)")
        case EIO where path.map(diskIsFull) == true:
            // LMDB reports a short write (what a full disk gives it) as EIO.
            return EventLogError(.storageFull, "the disk holding the store is full: \(e)")
        case EACCES, EPERM, EROFS:
            return EventLogError(.permissionDenied, "\(e)")
        case LMDBError.lockFileReplaced, LMDBError.sharedAcrossPIDNamespaces:
            return EventLogError(.unsupportedSharing, e.message)
        default:
            return EventLogError(.storage, "\(e)")
        }
    }

    func mapErrors<R>(_ body: () async throws -> R) async throws -> R {
        do { return try await body() } catch { throw Self.mapError(error, path: path) }
    }

    /// Whether the file system holding `path` has less than 1 MiB left for this user.
    static func diskIsFull(_ path: String) -> Bool {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return false }
        return UInt64(s.f_bavail) * UInt64(s.f_frsize) < 1 << 20
    }
}
