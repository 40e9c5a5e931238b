package import EventLog
import Foundation
import NIOCore
import PostgresNIO

extension PostgresEventStore {
    /// The server's URL without its password.
    package var location: String { url.description }

    package var isReadOnly: Bool { options.readOnly }

    package func appendVerbatim(_ events: [RawEvent]) async throws {
        guard !options.readOnly else { throw EventLogError(.readOnly, "\(url) is open read-only") }
        guard !events.isEmpty else { return }
        var encoded: [EncodedEvent] = []
        encoded.reserveCapacity(events.count)
        for e in events {
            do { encoded.append(try EncodedEvent(stored: e.json)) } catch {
                throw EventLogError(.invalidEvent, "event \(e.position): \(error.message)")
            }
        }
        let prepared = encoded
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            writerQueue.async { [self] in
                c.resume(with: Result { try commitVerbatim(events, prepared) }.mapError { PostgresSession.mapError($0) })
            }
        }
    }

    /// Writes `events` after the head in one transaction, checking continuity, chain and ids.
    private func commitVerbatim(_ events: [RawEvent], _ encoded: [EncodedEvent]) throws {
        let s = try writer()
        try s.transaction {
            try s.execute(writeSettings)
            var head = try lockHead(s)
            guard events[0].position == head.position + 1 else {
                throw EventLogError(.positionOutOfRange,
                    "the events start at position \(events[0].position) but the log's head is \(head.position)")
            }
            let ids = encoded.map { e in e.id.withUnsafeBytes { ByteBuffer(bytes: $0) } }
            if let row = try s.query("SELECT position FROM atlas.event_ids WHERE id = ANY(\(ids)::bytea[]) LIMIT 1").first {
                throw EventLogError(.invalidEvent, "an event's id is already in the log at position \(try row.decode(Int64.self))")
            }
            let records = try projectionRecords(s)
            let tableIDs = try tableIDs(s, generations: activeGenerations(records))
            let tables = OverlayTables(session: s, ids: tableIDs)
            if !projections.isEmpty { try prefetch(encoded, seen: [], position: head.position, into: tables, ids: tableIDs) }
            var applier = ProjectionApplier(projections, passThrough: Self.abortsGroup)
            var rows = EventRows()
            var seen = Set<EventID>()
            for (e, raw) in zip(encoded, events) {
                guard raw.position == head.position + 1 else {
                    throw EventLogError(.positionOutOfRange, "position \(raw.position) does not follow \(head.position)")
                }
                guard seen.insert(e.id).inserted else {
                    throw EventLogError(.invalidEvent, "event id \(e.id) appears twice (position \(raw.position))")
                }
                let chain = e.chainHash(after: head.chainHash, position: raw.position, format: formatVersion)
                guard chain == raw.chainHash else {
                    throw EventLogError(.corruptEvent, "position \(raw.position): the chain hash differs from the one recomputed")
                }
                rows.append(e, position: raw.position, chain: chain)
                try applier.apply(e, position: raw.position, chain: chain, to: tables)
                head = LogHead(position: raw.position, chainHash: chain)
            }
            try rows.write(s)
            try tables.flush()
            try s.query("UPDATE atlas.head SET position = \(Int64(head.position)), chain = \(head.chainHash.withUnsafeBytes { ByteBuffer(bytes: $0) })")
            try s.query("SELECT pg_notify(\(PostgresSchema.channel), \(String(head.position)))")
            let names = projections.map(\.name)
            if !names.isEmpty {
                try s.query("UPDATE atlas.projections SET checkpoint = \(Int64(head.position)) WHERE name = ANY(\(names)::text[])")
            }
        }
    }

    package func rawEntries(_ table: LogTable, after key: [UInt8]?, limit: Int) throws -> [RawTableEntry] {
        guard limit > 0 else { return [] }
        func be(_ p: Int64) -> [UInt8] { withUnsafeBytes(of: UInt64(bitPattern: p).bigEndian) { Array($0) } }
        return try pool.withSession { s in
            switch table {
            case .events:
                let after = key.flatMap { RawTableEntry(key: $0, value: []).eventPosition } ?? 0
                return try s.query("""
                    SELECT position, chain, envelope FROM atlas.events WHERE position > \(Int64(bitPattern: after))
                    ORDER BY position LIMIT \(Int64(limit))
                    """).map { row in
                    let (p, c, e) = try row.decode((Int64, ByteBuffer, ByteBuffer).self)
                    return RawTableEntry(key: be(p), value: Array(c.readableBytesView) + Array(e.readableBytesView))
                }
            case .eventIDs:
                let after = ByteBuffer(bytes: key ?? [])
                return try s.query("SELECT id, position FROM atlas.event_ids WHERE id > \(after) ORDER BY id LIMIT \(Int64(limit))").map { row in
                    let (id, p) = try row.decode((ByteBuffer, Int64).self)
                    return RawTableEntry(key: Array(id.readableBytesView), value: be(p))
                }
            case .tenantEvents:
                var tenant: [UInt8] = []
                var position: Int64 = -1
                if let key {
                    if let (t, p) = RawTableEntry(key: key, value: []).tenantIndexKey {
                        tenant = Array(t.utf8)
                        position = Int64(bitPattern: p)
                    } else {
                        tenant = key
                    }
                }
                return try s.query("""
                    SELECT tenant, position FROM atlas.tenant_events WHERE (tenant, position) > (\(ByteBuffer(bytes: tenant)), \(position))
                    ORDER BY tenant, position LIMIT \(Int64(limit))
                    """).map { row in
                    let (t, p) = try row.decode((ByteBuffer, Int64).self)
                    return RawTableEntry(key: Array(t.readableBytesView) + [0] + be(p), value: [])
                }
            }
        }
    }
}
