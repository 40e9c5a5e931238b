import EventLog
import NIOCore
import PostgresNIO

/// The tables inside a write transaction: changes are held in memory, reads see them first,
/// and ``send()`` writes those not sent yet with a few multi-row statements without waiting
/// for the server (it runs them while the caller goes on), ``flush()`` at the end.
///
/// The rows a batch will touch are fetched beforehand with one query (``prefetch(_:)``); a read
/// of any other key falls back to a query of its own. What is known of each row (absent, or
/// its value) decides how it is written: `INSERT` for a row known to be absent, `UPDATE` for
/// one known to be stored, an upsert only for a row written without being read. The head lock
/// the transaction holds keeps what is known true. Each request of a group can be undone
/// (``mark`` / ``rollBack(to:)``) when its precondition or its events fail, leaving the
/// others' changes in place, back to the last ``send()``.
final class OverlayTables: KeyValueWriter {
    let session: PostgresSession
    let ids: [StoreTable: Int32]

    /// A row as this transaction knows it.
    struct Entry {
        /// The row in the database, this transaction's statements sent so far included.
        var stored: Stored
        /// A change not sent yet (`.some(nil)`: a deletion).
        var pending: [UInt8]??
        /// Whether the key is in ``queue``.
        var queued = false
    }

    enum Stored {
        case unknown
        case absent
        case present([UInt8])
    }

    private var rows: [Int32: [RowKey: Entry]] = [:]
    /// The keys changed since the last ``send()``, in the order of their first change.
    private var queue: [(tbl: Int32, key: RowKey)] = []
    /// How to undo each change since the last ``send()``: the row and its earlier pending change.
    private var undo: [(tbl: Int32, key: RowKey, previous: [UInt8]??)] = []
    /// The statements sent and not yet waited for.
    private var inFlight: [EventLoopFuture<PostgresQueryResult>] = []
    /// Tables whose every row this transaction knows (empty when it began, such as the fresh
    /// generations of a rebuild): a key not seen is absent, without a query.
    var emptyTables: Set<Int32> = []
    private(set) var tallies: [String: Int] = [:]
    /// Whether tallies are kept (appends only).
    var counting = false
    /// Rows per statement.
    var statementRows = 10_000

    init(session: PostgresSession, ids: [StoreTable: Int32]) {
        self.session = session
        self.ids = ids
    }

    /// The database's clock at the start of this transaction (`now()`), read once.
    var storeTime: Timestamp { session.transactionTime() }

    func id(_ table: StoreTable) throws -> Int32 {
        guard let id = ids[table] else { throw EventLogError(.invalidOptions, "the store has no table \(table)") }
        return id
    }

    /// How many rows the transaction holds in memory.
    var entryCount: Int { rows.values.reduce(0) { $0 + $1.count } }

    // MARK: Lookup

    /// The current value of `key`: changed, else stored (queried when unknown).
    private func current(_ tbl: Int32, _ key: RowKey) throws -> [UInt8]? {
        if let e = rows[tbl]?[key] {
            if let p = e.pending { return p }
            switch e.stored {
            case .present(let v): return v
            case .absent: return nil
            case .unknown: break
            }
        }
        if emptyTables.contains(tbl) { return nil }
        let value = try SnapshotTables.fetch(session, tbl, key.bytes)
        rows[tbl, default: [:]][key, default: Entry(stored: .unknown)].stored = value.map(Stored.present) ?? .absent
        return value
    }

    /// Runs `body` on the entry of `key`, made when there is none.
    private func withEntry<R>(_ tbl: Int32, _ key: RowKey, _ body: (inout Entry) -> R) -> R {
        let initial = Entry(stored: emptyTables.contains(tbl) ? .absent : .unknown)
        return body(&rows[tbl, default: [:]][key, default: initial])
    }

    private func set(_ tbl: Int32, _ key: RowKey, _ value: [UInt8]?) {
        let (previous, enqueue) = withEntry(tbl, key) { e -> ([UInt8]??, Bool) in
            let previous = e.pending
            e.pending = .some(value)
            defer { e.queued = true }
            return (previous, !e.queued)
        }
        undo.append((tbl, key, previous))
        if enqueue { queue.append((tbl, key)) }
    }

    /// The stored value of `key` when known: `.some(nil)` when known to be absent, `nil` when unknown.
    func knownValue(_ tbl: Int32, _ key: [UInt8]) -> [UInt8]?? {
        let absent: [UInt8]? = nil
        guard let e = rows[tbl]?[RowKey(key)] else { return emptyTables.contains(tbl) ? .some(absent) : nil }
        switch e.stored {
        case .present(let v): return .some(v)
        case .absent: return .some(absent)
        case .unknown: return nil
        }
    }

    /// Fetches the stored values of `keys` (table id, key) not known yet, in one query;
    /// returns how many were found stored.
    @discardableResult
    func prefetch(_ keys: [(Int32, [UInt8])]) throws -> Int {
        guard let sent = sendPrefetch(keys) else { return 0 }
        return try receivePrefetch(sent)
    }

    /// Sends the query of ``prefetch(_:)`` without waiting for it (`nil` when every key is
    /// known); ``receivePrefetch(_:)`` takes its answer.
    func sendPrefetch(_ keys: [(Int32, [UInt8])]) -> EventLoopFuture<PostgresQueryResult>? {
        var tbls: [Int32] = []
        var ks: [ByteBuffer] = []
        for (t, k) in keys where !emptyTables.contains(t) {
            let key = RowKey(k)
            guard rows[t]?[key] == nil else { continue }
            // Absent unless the query finds it; a repeated key is asked once.
            rows[t, default: [:]][key] = Entry(stored: .absent)
            tbls.append(t)
            ks.append(ByteBuffer(bytes: k))
        }
        guard !tbls.isEmpty else { return nil }
        return session.send("""
            SELECT kv.tbl, kv.key, kv.value FROM unnest(\(tbls)::integer[], \(ks)::bytea[]) AS k(tbl, key)
            JOIN atlas.kv kv ON kv.tbl = k.tbl AND kv.key = k.key
            """)
    }

    /// Takes the answer of ``sendPrefetch(_:)``; returns how many rows were found stored.
    func receivePrefetch(_ sent: EventLoopFuture<PostgresQueryResult>) throws -> Int {
        try session.wait([sent])
        let result = try sent.wait()
        var n = 0
        for row in result.rows {
            let (t, k, v) = try row.decode((Int32, ByteBuffer, ByteBuffer).self)
            rows[t, default: [:]][RowKey(Array(k.readableBytesView)), default: Entry(stored: .absent)].stored = .present(Array(v.readableBytesView))
            n += 1
        }
        return n
    }

    // MARK: Undo

    var mark: Int { undo.count }

    func rollBack(to mark: Int) {
        while undo.count > mark {
            let u = undo.removeLast()
            rows[u.tbl]![u.key]!.pending = u.previous
        }
    }

    // MARK: Writing out

    /// Sends the changes made since the last call without waiting for the server: an `INSERT`
    /// of the rows known to be absent, an `UPDATE` of those known to be stored, an upsert of
    /// the others, and a `DELETE`, each in key order. Later statements and queries of the
    /// session run after them; ``flush()`` waits for them. Changes sent can no longer be undone.
    func send() throws {
        guard !queue.isEmpty else { return }
        var inserts = Rows(), updates = Rows(), upserts = Rows(), deletes = Rows()
        queue.sort { $0.tbl != $1.tbl ? $0.tbl < $1.tbl : RowKey.precedes($0.key.bytes, $1.key.bytes) }
        // A key is in one statement at most, so the statements may run in any order: each is
        // sent when it is full, and the arrays of the rows sent are freed.
        for (tbl, key) in queue {
            withEntry(tbl, key) { e in
                e.queued = false
                guard let change = e.pending else { return }
                e.pending = nil
                switch (e.stored, change) {
                case (.absent, nil): return
                case (.absent, let v?): inserts.append(tbl, key.bytes, v)
                case (.present(let old), let v?):
                    if old == v { return }
                    updates.append(tbl, key.bytes, v)
                case (.unknown, let v?): upserts.append(tbl, key.bytes, v)
                case (.present, nil), (.unknown, nil): deletes.append(tbl, key.bytes, nil)
                }
                e.stored = change.map(Stored.present) ?? .absent
            }
            if deletes.count == statementRows { try emit(&deletes, .delete) }
            if inserts.count == statementRows { try emit(&inserts, .insert) }
            if updates.count == statementRows { try emit(&updates, .update) }
            if upserts.count == statementRows { try emit(&upserts, .upsert) }
        }
        queue = []
        undo = []
        try emit(&deletes, .delete)
        try emit(&inserts, .insert)
        try emit(&updates, .update)
        try emit(&upserts, .upsert)
    }

    private enum Statement { case delete, insert, update, upsert }

    /// Sends `rows` as one statement of `kind` and empties them; first waits for the oldest
    /// statement when ``maxInFlight`` are on their way (what is encoded and not yet run stays
    /// bounded, however many rows a rebuild writes out at once).
    private func emit(_ rows: inout Rows, _ kind: Statement) throws {
        guard rows.count > 0 else { return }
        while inFlight.count >= maxInFlight { try session.wait([inFlight.removeFirst()]) }
        let part = rows
        rows = Rows()
        switch kind {
        case .delete:
            inFlight.append(session.send("""
                DELETE FROM atlas.kv kv USING unnest(\(part.tbls)::integer[], \(part.keys)::bytea[]) AS d(tbl, key)
                WHERE kv.tbl = d.tbl AND kv.key = d.key
                """))
        case .insert:
            inFlight.append(session.send("""
                INSERT INTO atlas.kv (tbl, key, value)
                SELECT * FROM unnest(\(part.tbls)::integer[], \(part.keys)::bytea[], \(part.values)::bytea[])
                """))
        case .update:
            inFlight.append(session.send("""
                UPDATE atlas.kv kv SET value = u.value
                FROM unnest(\(part.tbls)::integer[], \(part.keys)::bytea[], \(part.values)::bytea[]) AS u(tbl, key, value)
                WHERE kv.tbl = u.tbl AND kv.key = u.key
                """))
        case .upsert:
            inFlight.append(session.send("""
                INSERT INTO atlas.kv (tbl, key, value)
                SELECT * FROM unnest(\(part.tbls)::integer[], \(part.keys)::bytea[], \(part.values)::bytea[])
                ON CONFLICT (tbl, key) DO UPDATE SET value = EXCLUDED.value
                """))
        }
    }

    /// How many statements may be on their way before ``send()`` waits for the oldest.
    var maxInFlight = 16

    /// Waits for the statements sent so far.
    func settle() throws {
        let sent = inFlight
        inFlight = []
        try session.wait(sent)
    }

    /// Sends every change, waits for the server, and forgets what it knows.
    func flush() throws {
        try send()
        try settle()
        forget()
    }

    /// Forgets every row it knows (sent changes stay written); tables are no longer known whole.
    func forget() {
        rows = [:]
        queue = []
        undo = []
        emptyTables = []
    }

    /// Rows of one kind of statement, as the arrays of its `unnest`.
    private struct Rows {
        var tbls: [Int32] = []
        var keys: [ByteBuffer] = []
        var values: [ByteBuffer] = []

        mutating func append(_ tbl: Int32, _ key: [UInt8], _ value: [UInt8]?) {
            tbls.append(tbl)
            keys.append(ByteBuffer(bytes: key))
            if let value { values.append(ByteBuffer(bytes: value)) }
        }

        var count: Int { tbls.count }
    }

    // MARK: KeyValueReader

    func withValue<R>(_ table: StoreTable, _ key: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        guard let v = try current(try id(table), RowKey(key)) else { return nil }
        return try v.withUnsafeBytes { try body($0) }
    }

    func scan(_ table: StoreTable, prefix: [UInt8], from start: [UInt8]?, reverse: Bool,
              _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
        let tbl = try id(table)
        let range = KeyRange(prefix: prefix, from: start, reverse: reverse)
        var merged: [RowKey: [UInt8]?] = [:]
        // The server has every change sent (the query runs after them); what is pending goes on top.
        try range.forEachStored(session, tbl: tbl) { k, v in
            merged[RowKey(k)] = .some(v)
            return true
        }
        for (k, e) in rows[tbl] ?? [:] {
            if let p = e.pending, range.contains(k.bytes) { merged[k] = .some(p) }
        }
        var keys = merged.compactMap { $0.value == nil ? nil : $0.key.bytes }
        keys.sort(by: RowKey.precedes)
        if reverse { keys.reverse() }
        for k in keys {
            let v = merged[RowKey(k)]!!
            let go = try k.withUnsafeBytes { k in try v.withUnsafeBytes { v in try body(k, v) } }
            if !go { return }
        }
    }

    func count(_ table: StoreTable) throws -> Int {
        let tbl = try id(table)
        let rows = try session.query("SELECT count(*) FROM atlas.kv WHERE tbl = \(tbl)")
        var n = Int(try rows.first?.decode(Int64.self) ?? 0)
        for (k, e) in self.rows[tbl] ?? [:] {
            guard let p = e.pending else { continue }
            let before: Bool
            switch e.stored {
            case .present: before = true
            case .absent: before = false
            case .unknown: before = try SnapshotTables.fetch(session, tbl, k.bytes) != nil
            }
            n += (p == nil ? 0 : 1) - (before ? 1 : 0)
        }
        return n
    }

    func rawEvent(at position: UInt64) throws -> RawEvent? {
        try SnapshotTables.rawEvent(session, at: position)
    }

    // MARK: KeyValueWriter

    func put(_ table: StoreTable, _ key: [UInt8], _ value: [UInt8]) throws {
        set(try id(table), RowKey(key), value)
    }

    @discardableResult
    func delete(_ table: StoreTable, _ key: [UInt8]) throws -> Bool {
        let tbl = try id(table)
        let k = RowKey(key)
        guard try current(tbl, k) != nil else { return false }
        set(tbl, k, nil)
        return true
    }

    func update(_ table: StoreTable, key: UnsafeRawBufferPointer, _ body: (inout [UInt8]?) throws -> Void) throws {
        let tbl = try id(table)
        let k = RowKey(key)
        var value = try current(tbl, k)
        let found = value != nil
        try body(&value)
        if value != nil || found { set(tbl, k, value) }
    }

    func upsert(_ table: StoreTable, key: UnsafeRawBufferPointer, size: Int,
                insert: (UnsafeMutableRawBufferPointer) throws -> Void, update: (inout [UInt8]?) throws -> Void) throws {
        let tbl = try id(table)
        let k = RowKey(key)
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

    let storeTime: Timestamp

    init(ids: [StoreTable: Int32], known: ((Int32, [UInt8]) -> [UInt8]??)? = nil, storeTime: Timestamp = .now()) {
        self.ids = ids
        self.known = known
        self.storeTime = storeTime
    }

    private func note(_ table: StoreTable, _ key: [UInt8]) {
        if let id = ids[table] { keys.append((id, key)) }
    }

    private func lookup(_ table: StoreTable, _ key: [UInt8]) -> [UInt8]? {
        guard let known, let id = ids[table], let v = known(id, key) else { return nil }
        return v
    }

    /// The keys noted, in table and key order (neighbouring keys share index pages).
    func sortedKeys() -> [(Int32, [UInt8])] {
        keys.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : RowKey.precedes($0.1, $1.1) }
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
