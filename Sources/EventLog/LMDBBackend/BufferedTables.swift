/// Table writes held in memory and written in key order when flushed: what a rebuild's
/// projections write many times (an item seen in every run) reaches the B-tree once per
/// flush, and in order, so neighbouring keys share pages instead of each dirtying its own.
///
/// Reads see the buffered writes. `scan` and `count` flush first, so they see the tables as
/// if every write had gone straight through. Valid only inside the transaction it wraps.
final class BufferedTables: KeyValueWriter {
    private let base: LMDBTables
    /// One buffer per table, found by comparing names (cheaper than hashing them per write).
    private var tables: [StoreTable] = []
    private var buffers: [[BufferKey: [UInt8]?]] = []
    /// Buffered entries over all tables.
    private(set) var count = 0

    init(_ base: LMDBTables) { self.base = base }

    private func index(_ table: StoreTable) -> Int {
        if let i = tables.firstIndex(of: table) { return i }
        tables.append(table)
        buffers.append([:])
        return tables.count - 1
    }

    func withValue<R>(_ table: StoreTable, _ key: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        if let buffered = buffers[index(table)][BufferKey(key)] {
            guard let value = buffered else { return nil }
            return try value.withUnsafeBytes(body)
        }
        return try base.withValue(table, key, body)
    }

    func put(_ table: StoreTable, _ key: [UInt8], _ value: [UInt8]) throws {
        if buffers[index(table)].updateValue(value, forKey: BufferKey(key)) == nil { count += 1 }
    }

    func update(_ table: StoreTable, _ key: [UInt8], _ body: (UnsafeRawBufferPointer?) throws -> [UInt8]?) throws {
        let k = BufferKey(key)
        let t = index(table)
        if let slot = buffers[t].index(forKey: k) {
            // Buffered: change it in place, without hashing the key again.
            let current = buffers[t].values[slot]
            let new = try current.map { try $0.withUnsafeBytes { try body($0) } } ?? body(nil)
            buffers[t].values[slot] = new
            return
        }
        var new: [UInt8]?
        let found = try base.withValue(table, key) { old in new = try body(old) } != nil
        if !found { new = try body(nil) }
        if new != nil || found {
            buffers[t][k] = .some(new)
            count += 1
        }
    }

    @discardableResult
    func delete(_ table: StoreTable, _ key: [UInt8]) throws -> Bool {
        let present = try withValue(table, key) { _ in true } ?? false
        if buffers[index(table)].updateValue(nil, forKey: BufferKey(key)) == nil { count += 1 }
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
        for (table, entries) in zip(tables, buffers) {
            let sorted = entries.sorted { $0.key.bytes.lexicographicallyPrecedes($1.key.bytes) }
            for (key, value) in sorted {
                if let value { try base.put(table, key.bytes, value) } else { try base.delete(table, key.bytes) }
            }
        }
        tables.removeAll()
        buffers.removeAll()
        count = 0
    }
}

/// A key with a cheap precomputed hash (keys are hashed once per lookup, not per probe).
struct BufferKey: Hashable {
    let bytes: [UInt8]
    private let hash: UInt64

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        hash = bytes.withUnsafeBytes { Self.hash($0) }
    }

    static func == (a: BufferKey, b: BufferKey) -> Bool { a.hash == b.hash && a.bytes == b.bytes }
    func hash(into hasher: inout Hasher) { hasher.combine(hash) }

    /// A per-process seed, so that keys cannot be chosen to collide.
    private static let seed = UInt64.random(in: .min ... .max)

    /// 64-bit multiply-xor hash over 8-byte words.
    static func hash(_ b: UnsafeRawBufferPointer) -> UInt64 {
        var h = seed ^ (UInt64(b.count) &* 0x9E37_79B9_7F4A_7C15)
        var i = 0
        while i + 8 <= b.count {
            h = (h ^ b.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 29
            i += 8
        }
        var tail: UInt64 = 0
        while i < b.count {
            tail = tail << 8 | UInt64(b[i])
            i += 1
        }
        h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 31)
    }
}
