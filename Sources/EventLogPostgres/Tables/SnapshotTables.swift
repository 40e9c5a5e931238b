import EventLog
import NIOCore
import PostgresNIO

/// The tables as one read transaction sees them (a ``KeyValueReader`` over `atlas.kv` and
/// `atlas.events`).
final class SnapshotTables: KeyValueReader {
    let session: PostgresSession
    /// Each table's row in `atlas.kv_tables` (the active generation of a projection's table).
    let ids: [StoreTable: Int32]

    init(session: PostgresSession, ids: [StoreTable: Int32]) {
        self.session = session
        self.ids = ids
    }

    /// The database's clock at the start of this transaction (`now()`), read once.
    var storeTime: Timestamp { session.transactionTime() }

    /// The id of `table`, or `nil` for a table the store does not have (yet): it reads as empty.
    func id(_ table: StoreTable) -> Int32? { ids[table] }

    func withValue<R>(_ table: StoreTable, _ key: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        guard let tbl = id(table) else { return nil }
        guard let value = try Self.fetch(session, tbl, key) else { return nil }
        return try value.withUnsafeBytes { try body($0) }
    }

    static func fetch(_ session: PostgresSession, _ tbl: Int32, _ key: [UInt8]) throws -> [UInt8]? {
        let rows = try session.query("SELECT value FROM atlas.kv WHERE tbl = \(tbl) AND key = \(ByteBuffer(bytes: key))")
        guard let row = rows.first else { return nil }
        return Array(try row.decode(ByteBuffer.self).readableBytesView)
    }

    /// One query per 10,000 keys, each looked up in the primary key.
    func values(_ table: StoreTable, _ keys: [[UInt8]]) throws -> [[UInt8]?] {
        var out = [[UInt8]?](repeating: nil, count: keys.count)
        guard let tbl = id(table) else { return out }
        for start in stride(from: 0, to: keys.count, by: 10_000) {
            let part = keys[start..<min(keys.count, start + 10_000)].map { ByteBuffer(bytes: $0) }
            // OFFSET 0 keeps the lookup a probe per key (never a join over the whole table).
            let rows = try session.query("""
                SELECT k.i, v.value FROM unnest(\(part)::bytea[]) WITH ORDINALITY AS k(key, i)
                CROSS JOIN LATERAL (SELECT value FROM atlas.kv WHERE kv.tbl = \(tbl) AND kv.key = k.key OFFSET 0) v
                """)
            for row in rows {
                let (i, v) = try row.decode((Int64, ByteBuffer).self)
                out[start + Int(i) - 1] = Array(v.readableBytesView)
            }
        }
        return out
    }

    /// One query per 10,000 positions.
    func rawEvents(at positions: [UInt64]) throws -> [RawEvent?] {
        var found: [UInt64: RawEvent] = [:]
        let valid = positions.filter { $0 >= 1 && $0 <= UInt64(Int64.max) }.map { Int64($0) }
        for start in stride(from: 0, to: valid.count, by: 10_000) {
            let part = Array(valid[start..<min(valid.count, start + 10_000)])
            for row in try session.query("SELECT position, chain, envelope FROM atlas.events WHERE position = ANY(\(part)::bigint[])") {
                let e = try Self.decodeEvent(row)
                found[e.position] = e
            }
        }
        return positions.map { found[$0] }
    }

    func scan(_ table: StoreTable, prefix: [UInt8], from start: [UInt8]?, reverse: Bool,
              _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
        guard let tbl = id(table) else { return }
        try KeyRange(prefix: prefix, from: start, reverse: reverse).forEachStored(session, tbl: tbl) { k, v in
            try k.withUnsafeBytes { k in try v.withUnsafeBytes { v in try body(k, v) } }
        }
    }

    func count(_ table: StoreTable) throws -> Int {
        guard let tbl = id(table) else { return 0 }
        let rows = try session.query("SELECT count(*) FROM atlas.kv WHERE tbl = \(tbl)")
        return Int(try rows.first?.decode(Int64.self) ?? 0)
    }

    func rawEvent(at position: UInt64) throws -> RawEvent? {
        try Self.rawEvent(session, at: position)
    }

    static func rawEvent(_ session: PostgresSession, at position: UInt64) throws -> RawEvent? {
        guard position >= 1, position <= UInt64(Int64.max) else { return nil }
        let rows = try session.query("SELECT position, chain, envelope FROM atlas.events WHERE position = \(Int64(position))")
        return try rows.first.map(decodeEvent)
    }

    /// A row of `position, chain, envelope`.
    static func decodeEvent(_ row: PostgresRow) throws -> RawEvent {
        let (p, c, e) = try row.decode((Int64, ByteBuffer, ByteBuffer).self)
        guard let chain = ChainHash(bytes: Array(c.readableBytesView)) else {
            throw EventLogError(.corruptEvent, "event \(p) has a chain hash of \(c.readableBytes) bytes, not 32")
        }
        return RawEvent(position: UInt64(p), chainHash: chain, json: Array(e.readableBytesView))
    }
}
