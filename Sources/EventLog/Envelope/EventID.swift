import Foundation

/// A 128-bit event id, written as a lowercase UUID string.
///
/// New ids are UUIDv7 (RFC 9562): a millisecond timestamp followed by random bits, so ids
/// generated over time sort roughly by time and the id index appends instead of scattering.
package struct EventID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The 16 bytes as two big-endian words (no allocation per id; hashing and comparing are
    /// two word operations).
    private let high: UInt64
    private let low: UInt64

    /// The 16 bytes, most significant first.
    package var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Calls `body` with the 16 bytes, most significant first, without allocating.
    package func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { try body($0) }
    }

    private init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Wraps 16 bytes.
    package init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self = bytes.withUnsafeBytes { Self(unchecked: $0) }
    }

    /// The id whose bytes are the first 16 of `b` (which must have 16).
    init(unchecked b: UnsafeRawBufferPointer) {
        self.init(high: UInt64(bigEndian: b.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                  low: UInt64(bigEndian: b.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    }

    /// Parses the canonical `8-4-4-4-12` hex form (either case; output is always lowercase).
    package init?(_ string: String) {
        guard let id = Array(string.utf8).withUnsafeBytes({ EventID(utf8: $0) }) else { return nil }
        self = id
    }

    /// The id's bits mixed (with a per-process seed) into a word whose low bits are uniform:
    /// for hash tables that need no Hasher.
    var mixedBits: UInt64 {
        var x = high &+ Self.mixSeed &+ (low &* 0x9E37_79B9_7F4A_7C15)
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 31)
    }

    private static let mixSeed = UInt64.random(in: .min ... .max)

    /// A new time-ordered UUIDv7.
    package static func generate(now: Timestamp = .now()) -> EventID {
        let ms = UInt64(max(0, now.millisecondsSinceEpoch)) & 0xFFFF_FFFF_FFFF
        let (r1, r2) = RandomPool.next()
        // 48-bit milliseconds, version 7, 12 random bits; RFC 4122 variant, 62 random bits.
        let high = ms << 16 | 0x7000 | (r1 & 0x0FFF)
        let low = 0x8000_0000_0000_0000 | (r2 & 0x3FFF_FFFF_FFFF_FFFF)
        return EventID(high: high, low: low)
    }

    package var description: String {
        var s = [UInt8]()
        s.reserveCapacity(36)
        write(into: &s)
        return String(decoding: s, as: UTF8.self)
    }

    /// Appends the canonical `8-4-4-4-12` lowercase form to `out`.
    package func write(into out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(byteCount: 36, alignment: 1) { text in
            write(to: text.baseAddress!)
            out.append(contentsOf: UnsafeRawBufferPointer(text))
        }
    }

    /// Writes the canonical 36-byte form at `out`.
    func write(to out: UnsafeMutableRawPointer) {
        var j = 0
        for n in 0..<16 {
            if n == 4 || n == 6 || n == 8 || n == 10 {
                out.storeBytes(of: UInt8(ascii: "-"), toByteOffset: j, as: UInt8.self)
                j += 1
            }
            let word = n < 8 ? high : low
            let byte = UInt8(truncatingIfNeeded: word >> (56 - 8 * UInt64(n & 7)))
            out.storeBytes(of: Hex.digit(byte >> 4), toByteOffset: j, as: UInt8.self)
            out.storeBytes(of: Hex.digit(byte & 0x0F), toByteOffset: j + 1, as: UInt8.self)
            j += 2
        }
    }

    /// Parses the canonical text form from raw UTF-8 bytes.
    package init?(utf8 text: UnsafeRawBufferPointer) {
        var raw: (UInt64, UInt64) = (0, 0)
        let ok = Swift.withUnsafeMutableBytes(of: &raw) { Self.parse(utf8: text, into: $0) }
        guard ok else { return nil }
        self = Swift.withUnsafeBytes(of: raw) { Self(unchecked: $0) }
    }

    /// Parses the canonical text form from raw UTF-8 bytes into the 16 bytes `out`; `false`
    /// (with `out` unspecified) when it is not a UUID.
    package static func parse(utf8 text: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Bool {
        guard text.count == 36, out.count == 16 else { return false }
        var j = 0
        var i = 0
        while i < 36 {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard text[i] == UInt8(ascii: "-") else { return false }
                i += 1
                continue
            }
            guard let hi = Hex.value(text[i]), let lo = Hex.value(text[i + 1]) else { return false }
            out[j] = hi << 4 | lo
            j += 1
            i += 2
        }
        return true
    }

    /// Byte order (UUIDv7 ids: time order).
    package static func < (a: EventID, b: EventID) -> Bool {
        a.high != b.high ? a.high < b.high : a.low < b.low
    }
}

/// Random bits for ids, read from the kernel 4 KiB at a time: one system call per 256 ids
/// instead of two per id, which showed on the sync hot path. Each thread has its own pool, so
/// threads making ids at once (a sync encodes on every core) never wait for each other.
final class RandomPool {
    private var words = [UInt64](repeating: 0, count: 512)
    private var used = 512

    /// Two fresh random 64-bit words from this thread's pool.
    static func next() -> (UInt64, UInt64) {
        if let p = pthread_getspecific(key) { return Unmanaged<RandomPool>.fromOpaque(p).takeUnretainedValue().next() }
        let pool = RandomPool()
        pthread_setspecific(key, Unmanaged.passRetained(pool).toOpaque())
        return pool.next()
    }

    /// The thread-specific key of the pools; a pool is released when its thread ends.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let created = pthread_key_create(&key) { p in
            if let p { Unmanaged<RandomPool>.fromOpaque(p).release() }
        }
        precondition(created == 0, "pthread_key_create failed (\(created))")
        return key
    }()

    private func next() -> (UInt64, UInt64) {
        if used + 2 > words.count {
            let filled = words.withUnsafeMutableBytes { b in Self.fill(b) }
            if !filled {
                // Not available or interrupted: the stdlib generator, one word at a time.
                var rng = SystemRandomNumberGenerator()
                for i in 0..<words.count { words[i] = rng.next() }
            }
            used = 0
        }
        defer { used += 2 }
        return (words[used], words[used + 1])
    }

    /// Fills `buffer` from the kernel's generator; `false` when it could not.
    private static func fill(_ buffer: UnsafeMutableRawBufferPointer) -> Bool {
        urandom >= 0 && read(urandom, buffer.baseAddress, buffer.count) == buffer.count
    }

    private static let urandom = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
}
