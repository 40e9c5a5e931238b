import EventLog
import NIOCore
import PostgresNIO

/// The tables inside a write transaction: changes are held in memory and written with one
/// multi-row statement per kind at the end (``flush()``), reads see them first.
///
/// Values of the keys a batch will touch are fetched beforehand with one query
/// (``prefetch(_:)``); a read of any other key falls back to a query of its own. Each request
/// of a group can be undone (``mark`` / ``rollBack(to:)``) when its precondition or its
/// events fail, leaving the others' changes in place.
final class OverlayTables: KeyValueWriter {
    let session: PostgresSession
    let ids: [StoreTable: Int32]
    /// Values as stored before this transaction's changes, for the keys looked up so far
    /// (`nil`: known to be absent).
    private var stored: [Int32: [[UInt8]: [UInt8]?]] = [:]
    /// This transaction's changes (`nil`: deleted).
    private var changed: [Int32: [[UInt8]: [UInt8]?]] = [:]
    /// How to undo each change: the table, the key and its earlier entry in `changed`.
    private var undo: [(tbl: Int32, key: [UInt8], previous: [UInt8]??)] = []
    /// Tables known to be empty when the transaction began (fresh generations of a rebuild):
    /// a miss needs no query.
    var emptyTables: Set<Int32> = []
    private(set) var tallies: [String: Int] = [:]
    /// Whether tallies are kept (appends only).
    var counting = false
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

    func id(_ table: StoreTable) throws -> Int32 {
        guard let id = ids[table] else { throw EventLogError(.invalidOptions, "the store has no table \(table)") }
        return id
    }

    // MARK: Lookup

    /// The current value of `key`: changed, else stored (queried when unknown).
    private func current(_ tbl: Int32, _ key: [UInt8]) throws -> [UInt8]? {
        if let c = changed[tbl]?[key] { return c }
        if let s = stored[tbl]?[key] { return s }
        if emptyTables.contains(tbl) { return nil }
        let value = try SnapshotTables.fetch(session, tbl, key)
        stored[tbl, default: [:]][key] = .some(value)
        return value
    }

    private func set(_ tbl: Int32, _ key: [UInt8], _ value: [UInt8]?) {
        let previous = changed[tbl]?[key]
        undo.append((tbl, key, previous))
        changed[tbl, default: [:]][key] = .some(value)
    }

    /// The stored value of `key` when known: `.some(nil)` when known to be absent, `nil` when unknown.
    func knownValue(_ tbl: Int32, _ key: [UInt8]) -> [UInt8]?? {
        let absent: [UInt8]? = nil
        if emptyTables.contains(tbl) { return .some(absent) }
        guard let rows = stored[tbl], let value = rows[key] else { return nil }
        return .some(value)
    }

    /// Fetches the stored values of `keys` (table id, key) not known yet, in one query;
    /// returns how many were found stored.
    @discardableResult
    func prefetch(_ keys: [(Int32, [UInt8])]) throws -> Int {
        var tbls: [Int32] = []
        var ks: [ByteBuffer] = []
        for (t, k) in keys where !emptyTables.contains(t) && changed[t]?[k] == nil && stored[t]?[k] == nil {
            // Absent unless the query finds it; a repeated key is asked once.
            stored[t, default: [:]][k] = .some(nil)
            tbls.append(t)
            ks.append(ByteBuffer(bytes: k))
        }
        guard !tbls.isEmpty else { return 0 }
        let rows = try session.query("""
            SELECT kv.tbl, kv.key, kv.value FROM unnest(\(tbls)::integer[], \(ks)::bytea[]) AS k(tbl, key)
            JOIN atlas.kv kv ON kv.tbl = k.tbl AND kv.key = k.key
            """)
        for row in rows {
            let (t, k, v) = try row.decode((Int32, ByteBuffer, ByteBuffer).self)
            stored[t, default: [:]][Array(k.readableBytesView)] = .some(Array(v.readableBytesView))
        }
        return rows.count
    }

    // MARK: Undo

    var mark: Int { undo.count }

    func rollBack(to mark: Int) {
        while undo.count > mark {
            let u = undo.removeLast()
            if let previous = u.previous {
                changed[u.tbl]![u.key] = .some(previous)
            } else {
                changed[u.tbl]![u.key] = nil
            }
        }
    }

    // MARK: Writing out

    /// Writes every change with one upsert and one delete statement, and forgets what it knows.
    func flush() throws {
        var upTables: [Int32] = [], upKeys: [ByteBuffer] = [], upValues: [ByteBuffer] = []
        var delTables: [Int32] = [], delKeys: [ByteBuffer] = []
        // In key order: neighbouring rows land on the same index pages.
        for tbl in changed.keys.sorted() {
            let rows = changed[tbl]!.sorted { $0.key.lexicographicallyPrecedes($1.key) }
            for (key, value) in rows {
                if let value {
                    upTables.append(tbl)
                    upKeys.append(ByteBuffer(bytes: key))
                    upValues.append(ByteBuffer(bytes: value))
                } else {
                    delTables.append(tbl)
                    delKeys.append(ByteBuffer(bytes: key))
                }
            }
        }
        if !delTables.isEmpty {
            try session.query("""
                DELETE FROM atlas.kv kv USING unnest(\(delTables)::integer[], \(delKeys)::bytea[]) AS d(tbl, key)
                WHERE kv.tbl = d.tbl AND kv.key = d.key
                """)
        }
        if !upTables.isEmpty {
            try session.query("""
                INSERT INTO atlas.kv (tbl, key, value)
                SELECT * FROM unnest(\(upTables)::integer[], \(upKeys)::bytea[], \(upValues)::bytea[])
                ON CONFLICT (tbl, key) DO UPDATE SET value = EXCLUDED.value
                """)
        }
        changed = [:]
        stored = [:]
        undo = []
        emptyTables = []
    }

    // MARK: KeyValueReader

    func withValue<R>(_ table: StoreTable, _ key: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        guard let v = try current(try id(table), key) else { return nil }
        return try v.withUnsafeBytes { try body($0) }
    }

    func scan(_ table: StoreTable, prefix: [UInt8], from start: [UInt8]?, reverse: Bool,
              _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
        let tbl = try id(table)
        let range = KeyRange(prefix: prefix, from: start, reverse: reverse)
        var merged: [[UInt8]: [UInt8]?] = [:]
        if !emptyTables.contains(tbl) {
            try range.forEachStored(session, tbl: tbl) { k, v in
                merged[k] = .some(v)
                return true
            }
        }
        for (k, v) in changed[tbl] ?? [:] where range.contains(k) { merged[k] = .some(v) }
        var keys = merged.compactMap { $0.value == nil ? nil : $0.key }
        keys.sort { $0.lexicographicallyPrecedes($1) }
        if reverse { keys.reverse() }
        for k in keys {
            let v = merged[k]!!
            let go = try k.withUnsafeBytes { k in try v.withUnsafeBytes { v in try body(k, v) } }
            if !go { return }
        }
    }

    func count(_ table: StoreTable) throws -> Int {
        let tbl = try id(table)
        var n = 0
        if !emptyTables.contains(tbl) {
            let rows = try session.query("SELECT count(*) FROM atlas.kv WHERE tbl = \(tbl)")
            n = Int(try rows.first?.decode(Int64.self) ?? 0)
        }
        for (k, v) in changed[tbl] ?? [:] {
            let before: [UInt8]?
            if let s = stored[tbl]?[k] { before = s } else if emptyTables.contains(tbl) { before = nil } else {
                before = try SnapshotTables.fetch(session, tbl, k)
            }
            n += (v == nil ? 0 : 1) - (before == nil ? 0 : 1)
        }
        return n
    }

    func rawEvent(at position: UInt64) throws -> RawEvent? {
        try SnapshotTables.rawEvent(session, at: position)
    }

    // MARK: KeyValueWriter

    func put(_ table: StoreTable, _ key: [UInt8], _ value: [UInt8]) throws {
        set(try id(table), key, value)
    }

    @discardableResult
    func delete(_ table: StoreTable, _ key: [UInt8]) throws -> Bool {
        let tbl = try id(table)
        guard try current(tbl, key) != nil else { return false }
        set(tbl, key, nil)
        return true
    }

    func update(_ table: StoreTable, key: UnsafeRawBufferPointer, _ body: (inout [UInt8]?) throws -> Void) throws {
        let tbl = try id(table)
        let k = Array(key)
        var value = try current(tbl, k)
        let found = value != nil
        try body(&value)
        if value != nil || found { set(tbl, k, value) }
    }

    func upsert(_ table: StoreTable, key: UnsafeRawBufferPointer, size: Int,
                insert: (UnsafeMutableRawBufferPointer) throws -> Void, update: (inout [UInt8]?) throws -> Void) throws {
        let tbl = try id(table)
        let k = Array(key)
        var value = try current(tbl, k)
        if value == nil {
            var new = [UInt8](repeating: 0, count: size)
            try new.withUnsafeMutableBytes { try insert($0) }
            set(tbl, k, new)
            return
        }
        try update(&value)
        set(tbl, k, value)
    }

    func tally(_ name: StaticString, _ n: Int) {
        guard counting else { return }
        tallies[name.description, default: 0] += n
    }

    /// Forgets the tallies (each request of a group gets its own).
    func takeTallies() -> [String: Int] {
        defer { tallies = [:] }
        return tallies
    }
}

/// A ``KeyValueWriter`` that only notes which keys a batch reads or changes in place, as if
/// every table were empty: run before the real pass, so that one query fetches them all.
///
/// With `known`, values already fetched are seen as stored, so that a second pass finds the
/// keys that depend on them (a row that names another row).
final class DiscoveryTables: KeyValueWriter {
    let ids: [StoreTable: Int32]
    private(set) var keys: [(Int32, [UInt8])] = []
    private let known: ((Int32, [UInt8]) -> [UInt8]??)?

    init(ids: [StoreTable: Int32], known: ((Int32, [UInt8]) -> [UInt8]??)? = nil) {
        self.ids = ids
        self.known = known
    }

    private func note(_ table: StoreTable, _ key: [UInt8]) {
        if let id = ids[table] { keys.append((id, key)) }
    }

    private func lookup(_ table: StoreTable, _ key: [UInt8]) -> [UInt8]? {
        guard let known, let id = ids[table], let v = known(id, key) else { return nil }
        return v
    }

    /// The keys noted, grouped by table.
    func sortedKeys() -> [(Int32, [UInt8])] {
        keys.sorted { $0.0 < $1.0 }
    }

    func withValue<R>(_ table: StoreTable, _ key: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        note(table, key)
        guard let v = lookup(table, key) else { return nil }
        return try v.withUnsafeBytes { try body($0) }
    }

    func scan(_ table: StoreTable, prefix: [UInt8], from start: [UInt8]?, reverse: Bool,
              _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {}

    func count(_ table: StoreTable) throws -> Int { 0 }

    func rawEvent(at position: UInt64) throws -> RawEvent? { nil }

    func put(_ table: StoreTable, _ key: [UInt8], _ value: [UInt8]) throws {}

    func delete(_ table: StoreTable, _ key: [UInt8]) throws -> Bool {
        note(table, key)
        return false
    }

    func update(_ table: StoreTable, key: UnsafeRawBufferPointer, _ body: (inout [UInt8]?) throws -> Void) throws {
        let k = Array(key)
        note(table, k)
        var value = lookup(table, k)
        try body(&value)
    }

    func upsert(_ table: StoreTable, key: UnsafeRawBufferPointer, size: Int,
                insert: (UnsafeMutableRawBufferPointer) throws -> Void, update: (inout [UInt8]?) throws -> Void) throws {
        let k = Array(key)
        note(table, k)
        var value = lookup(table, k)
        if value != nil { try update(&value) }
    }
}
