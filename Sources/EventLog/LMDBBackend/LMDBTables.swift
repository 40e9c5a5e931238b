import Foundation
import LMDB

typealias RawDatabase = Database<RawBytes, RawBytes>

/// Table access through one LMDB transaction. Valid only inside the closure it was made for.
final class LMDBTables: KeyValueWriter {
    private let read: ReadTransaction
    private let write: WriteTransaction?
    private let handles: [StoreTable: RawDatabase]
    private let events: RawDatabase
    /// Counters projections kept (see ``KeyValueWriter/tally(_:_:)``): a few names, compared by
    /// their static text's address first, then by its bytes (no `String` made per call).
    private(set) var tallies: [(name: StaticString, count: Int)] = []

    func tally(_ name: StaticString, _ n: Int) {
        func same(_ a: StaticString) -> Bool {
            a.utf8Start == name.utf8Start
                || (a.utf8CodeUnitCount == name.utf8CodeUnitCount && memcmp(a.utf8Start, name.utf8Start, a.utf8CodeUnitCount) == 0)
        }
        for i in tallies.indices where same(tallies[i].name) {
            tallies[i].count += n
            return
        }
        tallies.append((name, n))
    }

    /// ``tallies`` by name.
    var tallyCounts: [String: Int] {
        tallies.reduce(into: [:]) { $0[$1.name.description, default: 0] += $1.count }
    }

    init(read: ReadTransaction, handles: [StoreTable: RawDatabase], events: RawDatabase) {
        self.read = read
        self.write = nil
        self.handles = handles
        self.events = events
    }

    init(write: WriteTransaction, handles: [StoreTable: RawDatabase], events: RawDatabase) {
        self.read = write
        self.write = write
        self.handles = handles
        self.events = events
    }

    func rawEvent(at position: UInt64) throws -> RawEvent? {
        try UInt64BE.withBytes(of: position) { k in
            try read.withRawValue(events, forRawKey: k) { v in RawEvent(position: position, stored: try StoredEvent(v, at: position)) }
        }
    }

    /// The last tables looked up: projections touch the same few tables for every event, and
    /// comparing names is cheaper than hashing them.
    private var recent: [(StoreTable, RawDatabase)] = []

    private func db(_ table: StoreTable) throws -> RawDatabase {
        for (t, db) in recent where t == table { return db }
        guard let db = handles[table] else {
            throw EventLogError(.storage, "unknown table \(table); register it when opening the store")
        }
        if recent.count == 4 { recent.removeFirst() }
        recent.append((table, db))
        return db
    }

    func withValue<R>(_ table: StoreTable, _ key: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        try key.withUnsafeBytes { k in try withValue(table, key: k, body) }
    }

    func withValue<R>(_ table: StoreTable, key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        try read.withRawValue(try db(table), forRawKey: key, body)
    }

    func update(_ table: StoreTable, key: UnsafeRawBufferPointer, _ body: (inout [UInt8]?) throws -> Void) throws {
        guard let write else { throw EventLogError(.readOnly, "table \(table) is read-only here") }
        let db = try db(table)
        // Most keys a sync writes are new: try the value for an absent key first, inserting it
        // in the same search that finds whether the key is there.
        var fresh: [UInt8]?
        try body(&fresh)
        if let fresh {
            guard let present = try fresh.withUnsafeBytes({ v in try write.insertRaw(db, key, v) { Array($0) } }) else { return }
            var current: [UInt8]? = present
            try body(&current)
            if let current {
                try current.withUnsafeBytes { v in try write.putRaw(db, key, v) }
            } else {
                _ = try write.deleteRaw(db, key)
            }
            return
        }
        var value = try read.withRawValue(db, forRawKey: key) { Array($0) }
        let found = value != nil
        try body(&value)
        if let value {
            try value.withUnsafeBytes { v in try write.putRaw(db, key, v) }
        } else if found {
            _ = try write.deleteRaw(db, key)
        }
    }

    func upsert(_ table: StoreTable, key: UnsafeRawBufferPointer, size: Int,
                insert: (UnsafeMutableRawBufferPointer) throws -> Void, update: (inout [UInt8]?) throws -> Void) throws {
        guard let write else { throw EventLogError(.readOnly, "table \(table) is read-only here") }
        let db = try db(table)
        // One search finds the key or reserves the new row's bytes.
        guard var current: [UInt8]? = try write.insertReserved(db, key, size: size, fill: insert, existing: { Array($0) }) else { return }
        try update(&current)
        if let current {
            try current.withUnsafeBytes { v in try write.putRaw(db, key, v) }
        } else {
            _ = try write.deleteRaw(db, key)
        }
    }

    func scan(
        _ table: StoreTable, prefix: [UInt8], from start: [UInt8]?, reverse: Bool,
        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        let db = try db(table)
        try read.withCursor(db) { cursor in
            guard let start else {
                try cursor.forEachRaw(prefix: prefix, reverse: reverse) { try body($0.key, $0.value) }
                return
            }
            var e: Cursor<RawBytes, RawBytes>.RawEntry?
            if reverse {
                e = try cursor.seek(atMost: start)
            } else {
                e = try start.withUnsafeBytes { try cursor.seekRaw(atLeast: $0) }
            }
            while let entry = e, entry.key.starts(with: prefix) {
                if try !body(entry.key, entry.value) { return }
                e = reverse ? try cursor.previous() : try cursor.next()
            }
        }
    }

    func count(_ table: StoreTable) throws -> Int {
        try read.count(try db(table))
    }

    func put(_ table: StoreTable, _ key: [UInt8], _ value: [UInt8]) throws {
        try key.withUnsafeBytes { try put(table, key: $0, value) }
    }

    func put(_ table: StoreTable, key: UnsafeRawBufferPointer, _ value: [UInt8]) throws {
        guard let write else { throw EventLogError(.readOnly, "table \(table) is read-only here") }
        let db = try db(table)
        try value.withUnsafeBytes { v in try write.putRaw(db, key, v) }
    }

    /// Lets `body` append rows to `table` in ascending key order through one cursor
    /// (`MDB_APPEND`: no search, full pages); each key must sort after every key in the table.
    func append(
        _ table: StoreTable,
        _ body: (_ append: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        guard let write else { throw EventLogError(.readOnly, "table \(table) is read-only here") }
        try write.withAppender(try db(table)) { appender in
            try body { key, value in try appender.appendRaw(key, value) }
        }
    }

    @discardableResult
    func delete(_ table: StoreTable, key: UnsafeRawBufferPointer) throws -> Bool {
        guard let write else { throw EventLogError(.readOnly, "table \(table) is read-only here") }
        return try write.deleteRaw(try db(table), key)
    }

    @discardableResult
    func delete(_ table: StoreTable, _ key: [UInt8]) throws -> Bool {
        try key.withUnsafeBytes { try delete(table, key: $0) }
    }
}
