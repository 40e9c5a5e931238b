package import EventLog
import NIOCore
import PostgresNIO

extension PostgresEventStore {
    package func head() throws -> LogHead {
        try pool.withSession { s in
            guard let row = try s.query("SELECT position, chain FROM atlas.head").first else {
                throw EventLogError(.notAStore, "\(url) has no row in atlas.head")
            }
            return try Self.decodeHead(row)
        }
    }

    package func rawEvents(from position: UInt64, limit: Int) throws -> [RawEvent] {
        guard limit > 0, position <= UInt64(Int64.max) else { return [] }
        return try pool.withSession { s in
            let rows = try s.query("""
                SELECT position, chain, envelope FROM atlas.events WHERE position >= \(Int64(max(position, 1)))
                ORDER BY position LIMIT \(Int64(limit))
                """)
            return try rows.map(SnapshotTables.decodeEvent)
        }
    }

    package func tenantPositions(_ tenant: String, after position: UInt64, limit: Int) throws -> [UInt64] {
        guard limit > 0, position < UInt64(Int64.max) else { return [] }
        return try pool.withSession { s in
            try s.query("""
                SELECT position FROM atlas.tenant_events WHERE tenant = \(ByteBuffer(string: tenant)) AND position > \(Int64(position))
                ORDER BY position LIMIT \(Int64(limit))
                """).map { UInt64(try $0.decode(Int64.self)) }
        }
    }

    package func position(of id: EventID) throws -> UInt64? {
        try pool.withSession { s in
            let key = id.withUnsafeBytes { ByteBuffer(bytes: $0) }
            return try s.query("SELECT position FROM atlas.event_ids WHERE id = \(key)").first.map { UInt64(try $0.decode(Int64.self)) }
        }
    }

    /// Every tenant with at least one event, in byte order.
    package func tenants() throws -> [String] {
        try pool.withSession { s in
            // A loose index scan: one probe of the primary key per tenant.
            try s.query("""
                WITH RECURSIVE t(tenant) AS (
                    (SELECT tenant FROM atlas.tenant_events ORDER BY tenant LIMIT 1)
                    UNION ALL
                    SELECT (SELECT e.tenant FROM atlas.tenant_events e WHERE e.tenant > t.tenant ORDER BY e.tenant LIMIT 1)
                    FROM t WHERE t.tenant IS NOT NULL)
                SELECT tenant FROM t WHERE tenant IS NOT NULL
                """).map { String(decoding: try $0.decode(ByteBuffer.self).readableBytesView, as: UTF8.self) }
        }
    }

    package func read<R>(_ body: (any KeyValueReader) throws -> R) throws -> R {
        try pool.withSession { s in
            try s.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") {
                let ids = try tableIDs(s, generations: activeGenerations(try projectionRecords(s)))
                return try body(SnapshotTables(session: s, ids: ids))
            }
        }
    }

    package func projectionStatus() throws -> [ProjectionStatus] {
        try pool.withSession { s in
            try s.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") {
                let records = try projectionRecords(s)
                let ids = try tableIDs(s, generations: activeGenerations(records))
                let tables = SnapshotTables(session: s, ids: ids)
                return try projections.map { p in
                    let r = records[p.name]
                    var entries: [String: Int] = [:]
                    for t in p.tableNames { entries[t] = try tables.count(.projection(p.name, t)) }
                    return ProjectionStatus(name: p.name, version: r?.version ?? p.version, checkpoint: r?.checkpoint ?? 0,
                                            generation: r?.generation ?? 0, entries: entries)
                }
            }
        }
    }

    /// The projections that do not reflect the whole log (missing, of another version, or behind).
    package func staleProjections() throws -> [StaleProjection] {
        let (records, head) = try pool.withSession { s in
            try s.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") {
                (try projectionRecords(s), try Self.decodeHead(try s.query("SELECT position, chain FROM atlas.head")[0]))
            }
        }
        return projections.compactMap { p in
            guard let r = records[p.name] else { return StaleProjection(name: p.name, reason: .missing) }
            if r.version != p.version { return StaleProjection(name: p.name, reason: .otherVersion(stored: r.version, expected: p.version)) }
            if r.checkpoint < head.position { return StaleProjection(name: p.name, reason: .behind(checkpoint: r.checkpoint, head: head.position)) }
            return nil
        }
    }
}
