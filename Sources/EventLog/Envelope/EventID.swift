import Foundation

/// A 128-bit event id, written as a lowercase UUID string.
///
/// New ids are UUIDv7 (RFC 9562): a millisecond timestamp followed by random bits, so ids
/// generated over time sort roughly by time and the id index appends instead of scattering.
public struct EventID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The 16 bytes, most significant first.
    public let bytes: [UInt8]

    /// Wraps 16 bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses the canonical `8-4-4-4-12` hex form (either case; output is always lowercase).
    public init?(_ string: String) {
        guard let id = Array(string.utf8).withUnsafeBytes({ EventID(utf8: $0) }) else { return nil }
        self = id
    }

    /// A new time-ordered UUIDv7.
    public static func generate(now: Timestamp = .now()) -> EventID {
        var b = [UInt8](repeating: 0, count: 16)
        let ms = UInt64(max(0, now.millisecondsSinceEpoch))
        for i in 0..<6 { b[i] = UInt8(truncatingIfNeeded: ms >> (40 - 8 * UInt64(i))) }
        let (r1, r2) = RandomPool.shared.next()
        for i in 0..<2 { b[6 + i] = UInt8(truncatingIfNeeded: r1 >> (8 * UInt64(i))) }
        for i in 0..<8 { b[8 + i] = UInt8(truncatingIfNeeded: r2 >> (8 * UInt64(i))) }
        b[6] = 0x70 | (b[6] & 0x0F)  // version 7
        b[8] = 0x80 | (b[8] & 0x3F)  // RFC 4122 variant
        return EventID(bytes: b)!
    }

    public var description: String {
        var s = [UInt8]()
        s.reserveCapacity(36)
        write(into: &s)
        return String(decoding: s, as: UTF8.self)
    }

    /// Appends the canonical `8-4-4-4-12` lowercase form to `out`.
    public func write(into out: inout [UInt8]) {
        bytes.withUnsafeBufferPointer { b in
            for i in 0..<b.count {
                if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
                out.append(Hex.digit(b[i] >> 4))
                out.append(Hex.digit(b[i] & 0x0F))
            }
        }
    }

    /// Parses the canonical text form from raw UTF-8 bytes.
    public init?(utf8 text: UnsafeRawBufferPointer) {
        var ok = false
        let out = [UInt8](unsafeUninitializedCapacity: 16) { b, n in
            ok = Self.parse(utf8: text, into: UnsafeMutableRawBufferPointer(b))
            n = 16
        }
        guard ok else { return nil }
        self.bytes = out
    }

    /// Parses the canonical text form from raw UTF-8 bytes into the 16 bytes `out`; `false`
    /// (with `out` unspecified) when it is not a UUID.
    public static func parse(utf8 text: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Bool {
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
    public static func < (a: EventID, b: EventID) -> Bool {
        let (a0, a1) = a.words, (b0, b1) = b.words
        return a0 != b0 ? a0 < b0 : a1 < b1
    }

    public static func == (a: EventID, b: EventID) -> Bool { a.words == b.words }

    /// Hashes the two 64-bit halves (cheaper than hashing the array element by element).
    public func hash(into hasher: inout Hasher) {
        let (w0, w1) = words
        hasher.combine(w0)
        hasher.combine(w1)
    }

    /// The 16 bytes as two big-endian words.
    private var words: (UInt64, UInt64) {
        bytes.withUnsafeBytes {
            (UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
             UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
    }
}

/// Random bits for ids, read from the kernel 4 KiB at a time: one system call per 256 ids
/// instead of two per id, which showed on the sync hot path.
final class RandomPool: @unchecked Sendable {
    static let shared = RandomPool()
    private let urandom = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
    private let lock = NSLock()
    private var words = [UInt64](repeating: 0, count: 512)
    private var used = 512

    /// Two fresh random 64-bit words.
    func next() -> (UInt64, UInt64) {
        lock.lock()
        defer { lock.unlock() }
        if used + 2 > words.count {
            let filled = words.withUnsafeMutableBytes { b in urandom >= 0 ? read(urandom, b.baseAddress, b.count) : -1 }
            if filled != words.count * 8 {
                // Not available or interrupted: the stdlib generator, one word at a time.
                var rng = SystemRandomNumberGenerator()
                for i in 0..<words.count { words[i] = rng.next() }
            }
            used = 0
        }
        defer { used += 2 }
        return (words[used], words[used + 1])
    }
}
