/// Table writes held in memory and written in key order when flushed: what a rebuild's
/// projections write many times (an item seen in every run) reaches the B-tree once per
/// flush, and in order, so neighbouring keys share pages instead of each dirtying its own.
///
/// Reads see the buffered writes. `scan` and `count` flush first, so they see the tables as
/// if every write had gone straight through. Valid only inside the transaction it wraps.
final class BufferedTables: KeyValueWriter {
    private let base: LMDBTables
    // Used by one thread inside one transaction, so the run-time exclusivity checks (one per
    // access, several per event) buy nothing here.
    /// One map per table, found by comparing fingerprints first (see ``StoreTable``).
    @exclusivity(unchecked) private var tables: [StoreTable] = []
    @exclusivity(unchecked) private var fingerprints: [UInt64] = []
    @exclusivity(unchecked) private var maps: [ByteMap] = []
    /// Buffered entries over all tables.
    @exclusivity(unchecked) private(set) var count = 0

    init(_ base: LMDBTables) { self.base = base }

    private func index(_ table: StoreTable) -> Int {
        let f = table.fingerprint
        for i in fingerprints.indices where fingerprints[i] == f && tables[i] == table { return i }
        tables.append(table)
        fingerprints.append(f)
        maps.append(ByteMap())
        return tables.count - 1
    }

    func withValue<R>(_ table: StoreTable, _ key: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        let t = index(table)
        return try key.withUnsafeBytes { k in
            if case .found(let e) = maps[t].lookup(k, hash: ByteMap.hash(k)) {
                guard let value = maps[t].values[e] else { return nil }
                return try value.withUnsafeBytes(body)
            }
            return try base.withValue(table, key: k, body)
        }
    }

    func put(_ table: StoreTable, _ key: [UInt8], _ value: [UInt8]) throws {
        let t = index(table)
        if key.withUnsafeBytes({ maps[t].set($0, value) }) { count += 1 }
    }

    func update(_ table: StoreTable, key: UnsafeRawBufferPointer, _ body: (inout [UInt8]?) throws -> Void) throws {
        let t = index(table)
        let h = ByteMap.hash(key)
        switch maps[t].lookup(key, hash: h) {
        case .found(let e):
            // Buffered: changed in place, its storage reused.
            try body(&maps[t].values[e])
        case .absent(let slot):
            var value = try base.withValue(table, key: key) { Array($0) }
            let found = value != nil
            try body(&value)
            if value != nil || found {
                maps[t].insert(key, hash: h, at: slot, value: value)
                count += 1
            }
        }
    }

    func upsert(_ table: StoreTable, key: UnsafeRawBufferPointer, size: Int,
                insert: (UnsafeMutableRawBufferPointer) throws -> Void, update change: (inout [UInt8]?) throws -> Void) throws {
        // `update` calls its body once here, with the buffered or stored value.
        try update(table, key: key) { value in
            if value != nil { return try change(&value) }
            var new = [UInt8](repeating: 0, count: size)
            try new.withUnsafeMutableBytes { try insert($0) }
            value = new
        }
    }

    @discardableResult
    func delete(_ table: StoreTable, _ key: [UInt8]) throws -> Bool {
        let present = try withValue(table, key) { _ in true } ?? false
        let t = index(table)
        if key.withUnsafeBytes({ maps[t].set($0, nil) }) { count += 1 }
        return present
    }

    func scan(
        _ table: StoreTable, prefix: [UInt8], from start: [UInt8]?, reverse: Bool,
        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        try flush()
        try base.scan(table, prefix: prefix, from: start, reverse: reverse, body)
    }

    func count(_ table: StoreTable) throws -> Int {
        try flush()
        return try base.count(table)
    }

    func rawEvent(at position: UInt64) throws -> RawEvent? { try base.rawEvent(at: position) }

    /// Writes every buffered entry, table by table in key order, and empties the buffer.
    func flush() throws {
        for (table, map) in zip(tables, maps) {
            try map.forEachSorted { key, value in
                if let value { try base.put(table, key: key, value) } else { try base.delete(table, key: key) }
            }
        }
        tables.removeAll()
        fingerprints.removeAll()
        maps.removeAll()
        count = 0
    }
}
