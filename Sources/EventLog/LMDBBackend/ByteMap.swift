import Foundation

/// A hash map from byte-string keys to optional byte-array values (`nil`: a deletion), for
/// ``BufferedTables``: keys live side by side in one arena, are hashed once per lookup with a
/// seeded word-at-a-time hash, and are found by linear probing, so a lookup allocates nothing
/// and an update of a present key changes its value in place.
///
/// Why not `Dictionary<[UInt8], [UInt8]?>`: a rebuild updates the same rows over and over, and
/// a dictionary of arrays allocates a key array per lookup and a value array per update. Measured
/// with `atlas-bench replay --rebuilds 3` (docs/benchmarks.md): the rebuild writer thread went
/// from ~2.6 µs to 1.0–1.3 µs of CPU per event (rebuild: 382,000 events/s after it), in the
/// change (4ee860a) that brought this map together with stack-built keys and in-place updates;
/// the map's own share was not measured apart.
struct ByteMap {
    /// Per slot, 0 when empty, else the entry's hash's upper 32 bits ‖ its index + 1 (32
    /// bits): a probe compares the hash bits in the slot before it reads the entry, so a lookup
    /// of a key that is absent rarely touches an entry. The count is a power of two, at most
    /// half full.
    private var slots: [UInt64]
    private var hashes: [UInt64] = []
    /// Where each entry's key lies in ``arena``.
    private var keyRanges: [Range<Int>] = []
    private var arena: [UInt8] = []
    /// Each entry's value; `nil` marks a deletion.
    var values: [[UInt8]?] = []

    init() { slots = [UInt64](repeating: 0, count: 64) }

    /// An empty map with room for `capacity` entries before it grows.
    init(capacity: Int) {
        var n = 64
        while n < capacity * 2 { n *= 2 }
        slots = [UInt64](repeating: 0, count: n)
        hashes.reserveCapacity(capacity)
        keyRanges.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
    }

    /// The number of entries.
    var count: Int { values.count }

    /// Where `key` is: its entry, or the empty slot where it would go (pass that to
    /// ``insert(_:hash:at:value:)`` before changing the map otherwise).
    enum Lookup {
        case found(entry: Int)
        case absent(slot: Int)
    }

    func lookup(_ key: UnsafeRawBufferPointer, hash: UInt64) -> Lookup {
        let mask = slots.count - 1
        var s = Int(truncatingIfNeeded: hash) & mask
        let tag = hash >> 32
        return arena.withUnsafeBytes { arena in
            while true {
                let v = slots[s]
                if v == 0 { return .absent(slot: s) }
                if v >> 32 == tag {
                    let e = Int(truncatingIfNeeded: v & 0xFFFF_FFFF) - 1
                    let r = keyRanges[e]
                    if r.count == key.count, r.isEmpty || memcmp(arena.baseAddress! + r.lowerBound, key.baseAddress!, r.count) == 0 {
                        return .found(entry: e)
                    }
                }
                s = (s + 1) & mask
            }
        }
    }

    /// Adds `key` (absent, with the slot ``lookup(_:hash:)`` gave) and returns its entry.
    @discardableResult
    mutating func insert(_ key: UnsafeRawBufferPointer, hash: UInt64, at slot: Int, value: [UInt8]?) -> Int {
        let e = values.count
        let start = arena.count
        arena.append(contentsOf: key)
        keyRanges.append(start..<arena.count)
        hashes.append(hash)
        values.append(value)
        slots[slot] = Self.slot(hash, e)
        if values.count * 2 > slots.count { grow() }
        return e
    }

    /// Sets `key`'s value, adding the key when absent; returns whether it was added.
    @discardableResult
    mutating func set(_ key: UnsafeRawBufferPointer, _ value: [UInt8]?) -> Bool {
        let h = Self.hash(key)
        switch lookup(key, hash: h) {
        case .found(let e):
            values[e] = value
            return false
        case .absent(let slot):
            insert(key, hash: h, at: slot, value: value)
            return true
        }
    }

    private mutating func grow() {
        var new = [UInt64](repeating: 0, count: slots.count * 2)
        let mask = new.count - 1
        for (e, h) in hashes.enumerated() {
            var s = Int(truncatingIfNeeded: h) & mask
            while new[s] != 0 { s = (s + 1) & mask }
            new[s] = Self.slot(h, e)
        }
        slots = new
    }

    private static func slot(_ hash: UInt64, _ entry: Int) -> UInt64 {
        hash & 0xFFFF_FFFF_0000_0000 | UInt64(truncatingIfNeeded: entry + 1)
    }

    /// The map without its deletions (entries whose value is `nil`); `dropped` gets the key
    /// length of each one left out.
    func withoutDeletions(_ dropped: (Int) -> Void) -> ByteMap {
        let live = values.reduce(0) { $1 == nil ? $0 : $0 + 1 }
        var m = ByteMap(capacity: live)
        arena.withUnsafeBytes { arena in
            for e in values.indices {
                let key = UnsafeRawBufferPointer(rebasing: arena[keyRanges[e]])
                guard let value = values[e] else {
                    dropped(key.count)
                    continue
                }
                if case .absent(let slot) = m.lookup(key, hash: hashes[e]) { m.insert(key, hash: hashes[e], at: slot, value: value) }
            }
        }
        return m
    }

    /// Visits each entry's key and value length (0 for a deletion), in no particular order.
    func forEachSize(_ body: (Int, Int) -> Void) {
        for e in values.indices { body(keyRanges[e].count, values[e]?.count ?? 0) }
    }

    /// Visits the entries in key order (bytewise).
    func forEachSorted(_ body: (UnsafeRawBufferPointer, [UInt8]?) throws -> Void) rethrows {
        try arena.withUnsafeBytes { arena in
            func key(_ e: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: arena[keyRanges[e]]) }
            let order = (0..<values.count).sorted { a, b in
                let x = key(a), y = key(b)
                let n = min(x.count, y.count)
                let c = n == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, n)
                return c != 0 ? c < 0 : x.count < y.count
            }
            for e in order { try body(key(e), values[e]) }
        }
    }

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
