/// Word-at-a-time (SWAR) searches through string bodies, shared by ``CanonicalTranscoder`` and
/// ``JSONObjectScanner``.
///
/// Each search loads eight bytes at once and marks the high bit of every byte that matches. The
/// subtraction tricks can also mark a byte *after* a true match (a borrow runs upwards), never
/// one before it, so the lowest mark on a little-endian load is always the first match.
enum ByteScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// High bits of the bytes of `x` equal to zero (plus possibly some above the first).
    @inline(__always)
    private static func zeroBytes(_ x: UInt64) -> UInt64 {
        (x &- ones) & ~x & highs
    }

    /// High bits of the bytes of `x` that are `"`, `\`, below 0x20 or at least 0x80.
    @inline(__always)
    private static func stringSpecials(_ x: UInt64) -> UInt64 {
        zeroBytes(x ^ (ones &* 0x22)) | zeroBytes(x ^ (ones &* 0x5C)) | ((x &- ones &* 0x20) & ~x & highs) | (x & highs)
    }

    /// High bits of the bytes of `x` that are `"` or `\`.
    @inline(__always)
    private static func quotesAndBackslashes(_ x: UInt64) -> UInt64 {
        zeroBytes(x ^ (ones &* 0x22)) | zeroBytes(x ^ (ones &* 0x5C))
    }

    @inline(__always)
    private static func load(_ base: UnsafePointer<UInt8>, _ i: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
    }

    /// The index of the first byte in `i..<end` that is `"`, `\`, a control character (below
    /// 0x20) or not ASCII (0x80 and above); `end` when there is none.
    @inline(__always)
    static func firstStringSpecial(_ base: UnsafePointer<UInt8>, from i: Int, end: Int) -> Int {
        var i = i
        while i &+ 8 <= end {
            let mask = stringSpecials(load(base, i))
            if mask != 0 { return i &+ (mask.trailingZeroBitCount &>> 3) }
            i &+= 8
        }
        while i < end {
            let c = base[i]
            if c == 0x22 || c == 0x5C || c < 0x20 || c >= 0x80 { return i }
            i &+= 1
        }
        return end
    }

    /// The index of the first `"` or `\` in `i..<end`; `end` when there is none.
    @inline(__always)
    static func firstQuoteOrBackslash(_ base: UnsafePointer<UInt8>, from i: Int, end: Int) -> Int {
        var i = i
        while i &+ 8 <= end {
            let mask = quotesAndBackslashes(load(base, i))
            if mask != 0 { return i &+ (mask.trailingZeroBitCount &>> 3) }
            i &+= 8
        }
        while i < end {
            let c = base[i]
            if c == 0x22 || c == 0x5C { return i }
            i &+= 1
        }
        return end
    }
}
