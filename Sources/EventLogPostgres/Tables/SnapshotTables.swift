import EventLog
import NIOCore
import PostgresNIO

/// The tables as one read transaction sees them (a ``KeyValueReader`` over `atlas.kv` and
/// `atlas.events`).
final class SnapshotTables: KeyValueReader {
    let session: PostgresSession
    /// Each table's row in `atlas.kv_tables` (the active generation of a projection's table).
    let ids: [StoreTable: Int32]
    private var clock: Timestamp?

    init(session: PostgresSession, ids: [StoreTable: Int32]) {
        self.session = session
        self.ids = ids
    }

    /// The database's clock at the start of this transaction (`now()`), read once.
    var storeTime: Timestamp {
        if let t = clock { return t }
        let t = session.transactionTime()
        clock = t
        return t
    }

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
