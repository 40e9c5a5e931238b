import Foundation

/// A UTC instant with millisecond precision, written as RFC 3339 `YYYY-MM-DDTHH:MM:SS.mmmZ`.
package struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    package let millisecondsSinceEpoch: Int64

    package init(millisecondsSinceEpoch: Int64) { self.millisecondsSinceEpoch = millisecondsSinceEpoch }

    /// The current time.
    package static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(millisecondsSinceEpoch: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }

    package static func < (a: Timestamp, b: Timestamp) -> Bool { a.millisecondsSinceEpoch < b.millisecondsSinceEpoch }

    /// RFC 3339 UTC with milliseconds and `Z`.
    package var description: String {
        var out = [UInt8]()
        out.reserveCapacity(24)
        write(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Bytes of the RFC 3339 form: `YYYY-MM-DDTHH:MM:SS.mmmZ` (the year's low four digits).
    static let textBytes = 24

    /// Appends the RFC 3339 form (as ``description``) to `out`.
    package func write(into out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(byteCount: Self.textBytes, alignment: 1) { text in
            write(to: text.baseAddress!)
            out.append(contentsOf: UnsafeRawBufferPointer(text))
        }
    }

    /// Writes the ``textBytes`` bytes of the RFC 3339 form at `out`.
    func write(to out: UnsafeMutableRawPointer) {
        var ms = millisecondsSinceEpoch
        let days = ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000
        ms -= days * 86_400_000
        let (y, m, d) = Self.civil(fromDays: days)
        let h = ms / 3_600_000, mi = ms / 60_000 % 60, s = ms / 1000 % 60, f = ms % 1000
        var at = 0
        func put(_ v: Int64, _ width: Int) {
            var x = v
            for i in stride(from: width - 1, through: 0, by: -1) {
                // The low `width` digits (a negative year's magnitude).
                out.storeBytes(of: UInt8(48 + abs(x % 10)), toByteOffset: at + i, as: UInt8.self)
                x /= 10
            }
            at += width
        }
        func sep(_ c: UInt8) {
            out.storeBytes(of: c, toByteOffset: at, as: UInt8.self)
            at += 1
        }
        put(y, 4); sep(45); put(m, 2); sep(45); put(d, 2); sep(84)
        put(h, 2); sep(58); put(mi, 2); sep(58); put(s, 2); sep(46); put(f, 3); sep(90)
    }

    /// Parses RFC 3339: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `t` and `z` are accepted.
    /// Fractions beyond milliseconds are truncated.
    package init?(rfc3339 text: String) {
        let b = Array(text.utf8)
        func num(_ start: Int, _ count: Int) -> Int64? {
            guard start + count <= b.count else { return nil }
            var v: Int64 = 0
            for i in start..<start + count {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                v = v * 10 + Int64(b[i] - 48)
            }
            return v
        }
        guard b.count >= 20, let y = num(0, 4), b[4] == 45, let mo = num(5, 2), b[7] == 45, let d = num(8, 2),
              b[10] == 84 || b[10] == 116, let h = num(11, 2), b[13] == 58, let mi = num(14, 2), b[16] == 58,
              let s = num(17, 2),
              (1...12).contains(mo), d >= 1, d <= Self.daysInMonth(y, mo), h < 24, mi < 60, s < 61
        else { return nil }
        var i = 19
        var frac: Int64 = 0
        if i < b.count && b[i] == 46 {
            i += 1
            var digits = 0
            while i < b.count && b[i] >= 48 && b[i] <= 57 {
                if digits < 3 { frac = frac * 10 + Int64(b[i] - 48) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in min(digits, 3)..<3 { frac *= 10 }
        }
        guard i < b.count else { return nil }
        var offset: Int64 = 0
        if b[i] == 90 || b[i] == 122 {
            i += 1
        } else if b[i] == 43 || b[i] == 45 {
            guard let oh = num(i + 1, 2), i + 3 < b.count, b[i + 3] == 58, let om = num(i + 4, 2), oh < 24, om < 60 else { return nil }
            offset = (oh * 60 + om) * 60_000 * (b[i] == 45 ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = Self.days(fromCivil: y, mo, d)
        millisecondsSinceEpoch = days * 86_400_000 + h * 3_600_000 + mi * 60_000 + min(s, 59) * 1000 + frac - offset
    }

    static func daysInMonth(_ y: Int64, _ m: Int64) -> Int64 {
        switch m {
        case 2: return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's civil calendar algorithms.
    static func days(fromCivil y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
