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
        var out: [UInt8] = []
        out.reserveCapacity(16)
        var nibble: UInt8 = 0
        var half = false
        var index = 0
        for c in string.utf8 {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard c == UInt8(ascii: "-") else { return nil }
                index += 1
                continue
            }
            let v: UInt8
            switch c {
            case 48...57: v = c - 48
            case 97...102: v = c - 87
            case 65...70: v = c - 55
            default: return nil
            }
            if half { out.append(nibble << 4 | v) } else { nibble = v }
            half.toggle()
            index += 1
        }
        guard index == 36, out.count == 16 else { return nil }
        self.bytes = out
    }

    /// A new time-ordered UUIDv7.
    public static func generate(now: Timestamp = .now()) -> EventID {
        var b = [UInt8](repeating: 0, count: 16)
        let ms = UInt64(max(0, now.millisecondsSinceEpoch))
        for i in 0..<6 { b[i] = UInt8(truncatingIfNeeded: ms >> (40 - 8 * UInt64(i))) }
        var rng = SystemRandomNumberGenerator()
        let r1 = rng.next() as UInt64
        let r2 = rng.next() as UInt64
        for i in 0..<2 { b[6 + i] = UInt8(truncatingIfNeeded: r1 >> (8 * UInt64(i))) }
        for i in 0..<8 { b[8 + i] = UInt8(truncatingIfNeeded: r2 >> (8 * UInt64(i))) }
        b[6] = 0x70 | (b[6] & 0x0F)  // version 7
        b[8] = 0x80 | (b[8] & 0x3F)  // RFC 4122 variant
        return EventID(bytes: b)!
    }

    public var description: String {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var s = [UInt8]()
        s.reserveCapacity(36)
        for (i, byte) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { s.append(UInt8(ascii: "-")) }
            s.append(hex[Int(byte >> 4)])
            s.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: s, as: UTF8.self)
    }

    public static func < (a: EventID, b: EventID) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}
