/// Table writes held in memory and written in key order when flushed: what a rebuild's
/// projections write many times (an item seen in every run) reaches the B-tree once, and in
/// order, so neighbouring keys share pages instead of each dirtying its own.
///
/// A rebuild keeps one buffer over all its write transactions (``rebind(_:)`` moves it to the
/// next one). The tables it builds (``init(_:building:)``'s `building`, empty when the rebuild
/// began and written by nothing else) stay in memory from one transaction to the next, up to a
/// memory bound: while a table has never been written out, a key the buffer does not hold is
/// absent (no B-tree lookup), and its first write-out appends every row in key order
/// (`MDB_APPEND`: no search, each page written once, full). When the buffer outgrows its bound
/// (``spill()``), every table is written out and the buffer starts empty; from then on a key
/// it does not hold is looked up in the table, and later write-outs put rows into the tree.
/// Other tables (state tables) are written out at the end of every transaction
/// (``writeShared()``), since other writers use them between transactions.
///
/// Reads see the buffered writes. `scan` and `count` write everything out first, so they see
/// the tables as if every write had gone straight through.
final class BufferedTables: KeyValueWriter {
    private var base: LMDBTables!
    private let building: Set<StoreTable>
    // Used by one thread at a time (the rebuild's writer), so the run-time exclusivity checks
    // (one per access, several per event) buy nothing here.
    /// One map per table, found by comparing fingerprints first (see ``StoreTable``).
    @exclusivity(unchecked) private var tables: [StoreTable] = []
    @exclusivity(unchecked) private var fingerprints: [UInt64] = []
    @exclusivity(unchecked) private var maps: [ByteMap] = []
    /// Per table: whether its stored table may hold rows (it is not one being built, or the
    /// buffer has written it out). When not, keys the map lacks are absent and the map's
    /// deletions can be dropped.
    @exclusivity(unchecked) private var stored: [Bool] = []
    /// Per table: entries of its map that are deletions.
    @exclusivity(unchecked) private var deletions: [Int] = []
    /// Buffered entries over all tables.
    @exclusivity(unchecked) private(set) var count = 0
    /// An estimate of the memory the buffered entries take: key and value bytes plus
    /// ``entryOverhead`` each.
    @exclusivity(unchecked) private(set) var bytes = 0
    /// The most ``bytes`` ever held.
    @exclusivity(unchecked) private(set) var peakBytes = 0
    /// Times the buffer was written out because it outgrew its bound.
    @exclusivity(unchecked) private(set) var spills = 0

    /// Memory per entry besides its key and value bytes: the value array's header and
    /// allocation, the map's slot, hash and key range.
    static let entryOverhead = 96

    /// A buffer for `building`, the tables being built: empty now and written by nothing but
    /// this buffer. ``rebind(_:)`` gives it its first transaction.
    init(building: Set<StoreTable>) {
        self.building = building
    }

    /// Continues in the transaction `base` wraps (the previous one has ended).
    func rebind(_ base: LMDBTables) { self.base = base }

    private func index(_ table: StoreTable) -> Int {
        let f = table.fingerprint
        for i in fingerprints.indices where fingerprints[i] == f && tables[i] == table { return i }
        tables.append(table)
        fingerprints.append(f)
        maps.append(ByteMap())
        stored.append(!building.contains(table))
        deletions.append(0)
        return tables.count - 1
    }

    private func grew(_ n: Int) {
        bytes += n
        if bytes > peakBytes { peakBytes = bytes }
    }

    func withValue<R>(_ table: StoreTable, _ key: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        let t = index(table)
        return try key.withUnsafeBytes { k in
            if case .found(let e) = maps[t].lookup(k, hash: ByteMap.hash(k)) {
                guard let value = maps[t].values[e] else { return nil }
                return try value.withUnsafeBytes(body)
            }
            return stored[t] ? try base.withValue(table, key: k, body) : nil
        }
    }

    func put(_ table: StoreTable, _ key: [UInt8], _ value: [UInt8]) throws {
        let t = index(table)
        try key.withUnsafeBytes { k in try update(t, table, key: k) { $0 = value } }
    }

    func update(_ table: StoreTable, key: UnsafeRawBufferPointer, _ body: (inout [UInt8]?) throws -> Void) throws {
        try update(index(table), table, key: key, body)
    }

    private func update(_ t: Int, _ table: StoreTable, key: UnsafeRawBufferPointer, _ body: (inout [UInt8]?) throws -> Void) throws {
        let h = ByteMap.hash(key)
        switch maps[t].lookup(key, hash: h) {
        case .found(let e):
            // Buffered: changed in place, its storage reused.
            let before = maps[t].values[e]?.count
            try body(&maps[t].values[e])
            let after = maps[t].values[e]?.count
            grew((after ?? 0) - (before ?? 0))
            if (before == nil) != (after == nil) { deletions[t] += after == nil ? 1 : -1 }
            if after == nil && !stored[t] && deletions[t] > 4096 && deletions[t] * 2 > maps[t].count { compact(t) }
        case .absent(let slot):
            var value = stored[t] ? try base.withValue(table, key: key) { Array($0) } : nil
            let found = value != nil
            try body(&value)
            if value != nil || found {
                maps[t].insert(key, hash: h, at: slot, value: value)
                count += 1
                grew(key.count + (value?.count ?? 0) + Self.entryOverhead)
                if value == nil { deletions[t] += 1 }
            }
        }
    }

    /// Drops table `t`'s deletions from its map: its stored table holds none of their keys.
    private func compact(_ t: Int) {
        let before = maps[t].count
        var freed = 0
        maps[t] = maps[t].withoutDeletions { key in freed += key + Self.entryOverhead }
        count -= before - maps[t].count
        bytes -= freed
        deletions[t] = 0
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
        var present = false
        try key.withUnsafeBytes { k in
            try update(index(table), table, key: k) { value in
                present = value != nil
                value = nil
            }
        }
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

    /// Writes out the tables other writers share (those not being built): call before the
    /// transaction ends.
    func writeShared() throws {
        for t in tables.indices where !building.contains(tables[t]) { try writeOut(t) }
    }

    /// Writes out every table because the buffer outgrew its bound.
    func spill() throws {
        spills += 1
        try flush()
    }

    /// Writes every buffered entry, table by table in key order, and empties the buffer.
    func flush() throws {
        for t in tables.indices { try writeOut(t) }
    }

    private func writeOut(_ t: Int) throws {
        let table = tables[t], map = maps[t]
        guard map.count > 0 else { return }
        if stored[t] {
            try map.forEachSorted { key, value in
                if let value { try base.put(table, key: key, value) } else { try base.delete(table, key: key) }
            }
        } else {
            // Never written out: the table is empty, and the keys come in order.
            try base.append(table) { append in
                try map.forEachSorted { key, value in
                    if let value { try value.withUnsafeBytes { try append(key, $0) } }
                }
            }
            stored[t] = true
        }
        var freed = 0
        map.forEachSize { freed += $0 + $1 + Self.entryOverhead }
        bytes -= freed
        count -= map.count
        maps[t] = ByteMap()
        deletions[t] = 0
    }
}
