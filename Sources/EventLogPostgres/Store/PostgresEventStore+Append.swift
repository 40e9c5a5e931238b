package import EventLog
import Foundation
import NIOCore
import PostgresNIO

/// An append waiting for the writer.
final class PendingPostgresAppend: Sendable {
    let events: [EncodedEvent]
    let precondition: (@Sendable (any KeyValueWriter) throws -> Void)?
    let continuation: CheckedContinuation<AppendResult, any Error>

    init(events: [EncodedEvent], precondition: (@Sendable (any KeyValueWriter) throws -> Void)?,
         continuation: CheckedContinuation<AppendResult, any Error>) {
        self.events = events
        self.precondition = precondition
        self.continuation = continuation
    }
}

/// The rows of the events a group writes, as the arrays of its `unnest` inserts.
struct EventRows {
    var positions: [Int64] = []
    var chains: [ByteBuffer] = []
    var envelopes: [ByteBuffer] = []
    var ids: [ByteBuffer] = []
    var tenants: [ByteBuffer] = []

    var count: Int { positions.count }

    mutating func append(_ e: EncodedEvent, position: UInt64, chain: ChainHash) {
        positions.append(Int64(position))
        chains.append(chain.withUnsafeBytes { ByteBuffer(bytes: $0) })
        envelopes.append(e.withJSON { ByteBuffer(bytes: $0) })
        ids.append(e.id.withUnsafeBytes { ByteBuffer(bytes: $0) })
        tenants.append(ByteBuffer(string: e.tenant))
    }

    mutating func truncate(to n: Int) {
        positions.removeLast(count - n)
        chains.removeLast(chains.count - n)
        envelopes.removeLast(envelopes.count - n)
        ids.removeLast(ids.count - n)
        tenants.removeLast(tenants.count - n)
    }

    /// Inserts the rows into `atlas.events`, `atlas.event_ids` and `atlas.tenant_events`, a
    /// few thousand rows per statement.
    func write(_ s: PostgresSession, chunk: Int = 5000) throws {
        try s.wait(send(s, chunk: chunk))
    }

    /// Sends the inserts of ``write(_:chunk:)`` without waiting for the server: the statements
    /// run while the caller goes on (later statements on the session queue behind them).
    /// The caller waits for the returned futures before it commits.
    func send(_ s: PostgresSession, chunk: Int = 5000) -> [EventLoopFuture<PostgresQueryResult>] {
        var sent: [EventLoopFuture<PostgresQueryResult>] = []
        var start = 0
        while start < count {
            let r = start..<min(count, start + chunk)
            let p = Array(positions[r])
            sent.append(s.send("""
                INSERT INTO atlas.events (position, chain, envelope)
                SELECT * FROM unnest(\(p)::bigint[], \(Array(chains[r]))::bytea[], \(Array(envelopes[r]))::bytea[])
                """))
            sent.append(s.send("INSERT INTO atlas.event_ids (id, position) SELECT * FROM unnest(\(Array(ids[r]))::bytea[], \(p)::bigint[])"))
            sent.append(s.send("INSERT INTO atlas.tenant_events (tenant, position) SELECT * FROM unnest(\(Array(tenants[r]))::bytea[], \(p)::bigint[])"))
            start = r.upperBound
        }
        return sent
    }

    init() {}

    /// The rows `group` will write when every request succeeds: each event whose id is not in
    /// `known` (nor earlier in the group) at the next position after `head`.
    init(speculating group: [PendingPostgresAppend], known: [EventID: UInt64], head: LogHead, format: Int) {
        var seen = Set(known.keys)
        var head = head
        for request in group {
            for e in request.events where seen.insert(e.id).inserted {
                let position = head.position + 1
                let chain = e.chainHash(after: head.chainHash, position: position, format: format)
                append(e, position: position, chain: chain)
                head = LogHead(position: position, chainHash: chain)
            }
        }
    }
}

extension PostgresEventStore {
    @discardableResult
    package func append(
        encoded events: [EncodedEvent],
        precondition: (@Sendable (any KeyValueWriter) throws -> Void)? = nil
    ) async throws -> AppendResult {
        guard !options.readOnly else { throw EventLogError(.readOnly, "\(url) is open read-only") }
        return try await withCheckedThrowingContinuation { continuation in
            let p = PendingPostgresAppend(events: events, precondition: precondition, continuation: continuation)
            if pending.add(p) { writerQueue.async { [self] in drain() } }
        }
    }

    package func updateState<R: Sendable>(_ body: @escaping @Sendable (any KeyValueWriter) throws -> R) async throws -> R {
        guard !options.readOnly else { throw EventLogError(.readOnly, "\(url) is open read-only") }
        return try await onBlockingThread { [self] in try writeState { try body($0) } }
    }

    /// The settings of a write transaction: `synchronous_commit` for the store's durability,
    /// and joins by index probes only. Every join a write transaction runs looks up a list of
    /// keys sent with it (`unnest` of an array) in a primary key; with thousands of keys the
    /// planner would otherwise pick a hash join over a whole-table scan, which measured
    /// 2.7× slower for the prefetch of a 200,000-item ingest (and spills to disk past `work_mem`).
    var writeSettings: String {
        """
        SELECT set_config('synchronous_commit', '\(options.durability == .durable ? "on" : "off")', true),
            set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)
        """
    }

    /// The writer's session, connecting again after a failure.
    func writer() throws -> PostgresSession {
        if let s = writerSession, !s.broken, !s.connection.isClosed { return s }
        writerSession?.close()
        let s = try PostgresSession.connect(url)
        writerSession = s
        return s
    }

    /// Takes every pending append and commits them together. Runs on the writer queue.
    private func drain() {
        let group = pending.takeAll()
        guard !group.isEmpty else { return }
        let outcomes: [Result<AppendResult, any Error>]
        do {
            outcomes = try commit(group)
        } catch {
            let mapped = PostgresSession.mapError(error)
            outcomes = group.map { _ in Result<AppendResult, any Error>.failure(mapped) }
        }
        for (p, outcome) in zip(group, outcomes) { p.continuation.resume(with: outcome) }
    }

    /// Errors of the server or the connection: they end the transaction, so the whole group fails.
    static func abortsGroup(_ error: any Error) -> Bool {
        error is PSQLError
    }

    /// Commits `group` in one transaction (an empty group only catches projections up).
    func commit(_ group: [PendingPostgresAppend]) throws -> [Result<AppendResult, any Error>] {
        let s = try writer()
        return try s.transaction {
            try s.execute(writeSettings)
            let initial = try lockHead(s)
            var head = initial
            let records = try projectionRecords(s)
            for p in projections {
                guard let r = records[p.name] else {
                    throw EventLogError(.projectionFailed, "projection \(p.name) has not been built in \(url); reopen the store to build it")
                }
                if r.version != p.version {
                    throw EventLogError(.projectionFailed,
                        "projection \(p.name) is at version \(r.version) in the store but this build has version \(p.version); reopen the store to rebuild it")
                }
            }
            let ids = try tableIDs(s, generations: activeGenerations(records))
            let tables = OverlayTables(session: s, ids: ids)
            // Read now, before statements are queued on the session: a precondition's lease
            // check asks for it, and would otherwise wait behind them.
            _ = tables.storeTime
            let caughtUp = try catchUp(s, tables: tables, records: records, head: head)

            // Ids already in the log keep their positions.
            var known: [EventID: UInt64] = [:]
            let allIDs = group.flatMap { $0.events.map { e in e.id.withUnsafeBytes { ByteBuffer(bytes: $0) } } }
            if !allIDs.isEmpty {
                for row in try s.query("SELECT id, position FROM atlas.event_ids WHERE id = ANY(\(allIDs)::bytea[])") {
                    let (id, p) = try row.decode((ByteBuffer, Int64).self)
                    if let id = EventID(bytes: Array(id.readableBytesView)) { known[id] = UInt64(p) }
                }
            }
            // Learn the keys each request's projections touch (and its precondition reads), and
            // ask for them, a query per request: the server looks up the first request's keys
            // while the next ones are learnt here. Every answer is taken before any request is
            // applied, so that a key is never seen as absent while its query is on its way.
            var asked: [EventLoopFuture<PostgresQueryResult>] = []
            if !allIDs.isEmpty {
                var seen = Set(known.keys)
                var position = head.position
                for request in group {
                    let keys = discoverKeys(request.events, seen: &seen, position: &position, tables: tables, ids: ids,
                                            preconditions: request.precondition.map { [$0] } ?? [])
                    if let a = tables.sendPrefetch(keys) { asked.append(a) }
                }
            }
            var found = 0
            for a in asked { found += try tables.receivePrefetch(a) }
            // The group's event rows, assuming every request succeeds (the common case), go to
            // the server next and are inserted while the projections run here.
            let speculative = EventRows(speculating: group, known: known, head: head, format: formatVersion)
            var inFlight = speculative.send(s)
            defer { _ = try? s.wait(inFlight) }
            if found > 0 {
                // Rows that name other rows: again with the values found.
                try prefetch(group.lazy.flatMap(\.events), seen: Set(known.keys), position: head.position, into: tables, ids: ids,
                             passes: 2)
            }
            var rows = EventRows()
            var results: [Result<AppendResult, any Error>] = []
            results.reserveCapacity(group.count)
            tables.counting = true
            for request in group {
                let before = head
                let mark = tables.mark
                let rowMark = rows.count
                var added: [EventID] = []
                do {
                    if let precondition = request.precondition { try precondition(tables) }
                    var applier = ProjectionApplier(projections, passThrough: Self.abortsGroup)
                    var positions: [UInt64] = []
                    positions.reserveCapacity(request.events.count)
                    var written = 0
                    for e in request.events {
                        if let earlier = known[e.id] {
                            positions.append(earlier)
                            continue
                        }
                        let position = head.position + 1
                        let chain = e.chainHash(after: head.chainHash, position: position, format: formatVersion)
                        rows.append(e, position: position, chain: chain)
                        known[e.id] = position
                        added.append(e.id)
                        head = LogHead(position: position, chainHash: chain)
                        try applier.apply(e, position: position, chain: chain, to: tables)
                        positions.append(position)
                        written += 1
                    }
                    results.append(.success(AppendResult(positions: positions, written: written, head: .empty, tallies: tables.takeTallies())))
                } catch {
                    if Self.abortsGroup(error) { throw error }
                    head = before
                    tables.rollBack(to: mark)
                    rows.truncate(to: rowMark)
                    for id in added { known[id] = nil }
                    _ = tables.takeTallies()
                    results.append(.failure(error))
                }
                // The request's rows go to the server while the next one runs here.
                try tables.send()
            }
            let sent = inFlight
            inFlight = []
            try s.wait(sent)
            if rows.positions != speculative.positions || rows.chains != speculative.chains {
                // A request failed and left its events out: write the rows it did commit instead.
                try s.query("DELETE FROM atlas.events WHERE position > \(Int64(initial.position))")
                try s.query("DELETE FROM atlas.event_ids WHERE id = ANY(\(speculative.ids)::bytea[])")
                try s.query("""
                    DELETE FROM atlas.tenant_events t USING unnest(\(speculative.tenants)::bytea[], \(speculative.positions)::bigint[]) AS d(tenant, position)
                    WHERE t.tenant = d.tenant AND t.position = d.position
                    """)
                try rows.write(s)
            }
            try tables.flush()
            if head != initial {
                try s.query("UPDATE atlas.head SET position = \(Int64(head.position)), chain = \(head.chainHash.withUnsafeBytes { ByteBuffer(bytes: $0) })")
                try s.query("SELECT pg_notify(\(PostgresSchema.channel), \(String(head.position)))")
            }
            if head != initial || caughtUp {
                let names = projections.map(\.name)
                if !names.isEmpty {
                    try s.query("UPDATE atlas.projections SET checkpoint = \(Int64(head.position)) WHERE name = ANY(\(names)::text[])")
                }
            }
            let final = head
            return results.map { $0.map { var r = $0; r.head = final; return r } }
        }
    }

    /// The keys the projections will touch for `events` (those not in `seen`, which gains them,
    /// at the positions after `position`, which moves past them), learnt by running them against
    /// ``DiscoveryTables`` (seeing the values `tables` knows), in table and key order. With
    /// `preconditions`, the keys they read too: a read of a key not fetched would wait for
    /// every statement queued on the session before it.
    func discoverKeys<S: Sequence<EncodedEvent>>(_ events: S, seen: inout Set<EventID>, position: inout UInt64,
                                                 tables: OverlayTables, ids: [StoreTable: Int32],
                                                 preconditions: [@Sendable (any KeyValueWriter) throws -> Void] = []) -> [(Int32, [UInt8])] {
        let discovery = DiscoveryTables(ids: ids, known: tables.knownValue, storeTime: tables.storeTime)
        for check in preconditions { try? check(discovery) }
        var applier = ProjectionApplier(projections)
        for e in events where seen.insert(e.id).inserted {
            position += 1
            try? applier.apply(e, position: position, chain: .genesis, to: discovery)
        }
        return discovery.sortedKeys()
    }

    /// Fetches the keys of ``discoverKeys(_:seen:position:tables:ids:preconditions:)``; again
    /// with the values found, for rows that name other rows, while a pass finds stored rows
    /// (`passes` at most).
    func prefetch<S: Sequence<EncodedEvent>>(_ events: S, seen: Set<EventID>, position: UInt64, into tables: OverlayTables,
                                             ids: [StoreTable: Int32], passes: Int = 3) throws {
        for _ in 0..<passes {
            var seen = seen
            var position = position
            if try tables.prefetch(discoverKeys(events, seen: &seen, position: &position, tables: tables, ids: ids)) == 0 { return }
        }
    }

    /// Applies events a projection has not seen yet (written by a process without it);
    /// returns whether there were any.
    private func catchUp(_ s: PostgresSession, tables: OverlayTables, records: [String: ProjectionRecord], head: LogHead) throws -> Bool {
        var any = false
        for p in projections {
            guard let r = records[p.name], r.checkpoint < head.position else { continue }
            any = true
            var applier = ProjectionApplier([p], passThrough: Self.abortsGroup)
            try forEachStoredEvent(s, after: r.checkpoint, through: head.position) { e in
                try e.json.withUnsafeBytes { try applier.apply(stored: $0, position: e.position, chain: e.chainHash, to: tables) }
            }
        }
        return any
    }

    /// Visits the stored events after `start` through `end`, a page at a time.
    func forEachStoredEvent(_ s: PostgresSession, after start: UInt64, through end: UInt64, page: Int = 2000,
                            _ body: (RawEvent) throws -> Void) throws {
        var next = start
        while next < end {
            let rows = try s.query("""
                SELECT position, chain, envelope FROM atlas.events WHERE position > \(Int64(next)) AND position <= \(Int64(end))
                ORDER BY position LIMIT \(page)
                """)
            if rows.isEmpty { break }
            for row in rows {
                let e = try SnapshotTables.decodeEvent(row)
                guard e.position == next + 1 else {
                    throw EventLogError(.corruptEvent, "gap in the log: position \(next + 1) is missing")
                }
                try body(e)
                next = e.position
            }
        }
    }

    /// Runs `body` on a thread that may block (not one of the cooperative pool's).
    func onBlockingThread<R: Sendable>(_ body: @escaping @Sendable () throws -> R) async throws -> R {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<R, any Error>) in
            DispatchQueue.global().async { c.resume(with: Result { try body() }.mapError { PostgresSession.mapError($0) }) }
        }
    }
}

