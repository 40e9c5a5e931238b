/// RFC 8785 (JSON Canonicalization Scheme, "JCS") serialization.
///
/// The canonical form of a ``JSONValue`` is a unique UTF-8 byte sequence:
/// - no insignificant whitespace;
/// - object members sorted by the UTF-16 code units of their keys (RFC 8785 §3.2.3);
/// - strings escaped minimally (RFC 8785 §3.2.2.2): only `"`, `\` and the control
///   characters below U+0020 are escaped; everything else, including non-ASCII,
///   U+2028/U+2029 and `/`, is written literally as UTF-8;
/// - numbers written as ECMAScript `Number.prototype.toString` writes them (RFC 8785 §3.2.2.3).
///
/// NaN and ±Infinity have no JSON form and make serialization throw ``CanonicalJSONError``.
package enum CanonicalJSON {
    /// The canonical UTF-8 bytes of `value`.
    /// - Throws: ``CanonicalJSONError`` when a number is NaN or infinite.
    package static func serialize(_ value: JSONValue) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        try write(value, into: &out)
        return out
    }

    /// The canonical text of `value` (the UTF-8 of ``serialize(_:)`` as a `String`).
    /// - Throws: ``CanonicalJSONError`` when a number is NaN or infinite.
    package static func serializeToString(_ value: JSONValue) throws -> String {
        String(decoding: try serialize(value), as: UTF8.self)
    }

    /// Appends the canonical UTF-8 bytes of `value` to `out`.
    ///
    /// When this throws, `out` is left exactly as it was before the call.
    /// - Throws: ``CanonicalJSONError`` when a number is NaN or infinite.
    package static func write(_ value: JSONValue, into out: inout [UInt8]) throws {
        let mark = out.count
        do {
            try writeValue(value, into: &out)
        } catch {
            out.removeSubrange(mark...)
            throw error
        }
    }

    /// Validates `bytes` (strictly, as ``JSONParser`` does) and returns their canonical form,
    /// the same bytes as `serialize(try JSONParser(limits: limits).parse(bytes))`; see
    /// ``canonicalize(_:limits:into:)``.
    /// - Throws: ``JSONParseError`` when `bytes` is not valid I-JSON.
    package static func canonicalize(_ bytes: [UInt8], limits: JSONLimits = .default) throws -> [UInt8] {
        var out: [UInt8] = []
        try bytes.withUnsafeBytes { input in
            try canonicalize(input, limits: limits, into: &out)
        }
        return out
    }

    /// ECMAScript `Number.prototype.toString` of `value` (RFC 8785 §3.2.2.3), e.g. `1e+21`,
    /// `100000000000000000000`, `1e-7`, `0.000001`, `5e-324`; `-0` gives `0`.
    /// - Throws: ``CanonicalJSONError`` when `value` is NaN or infinite.
    package static func formatNumber(_ value: Double) throws -> String {
        var out: [UInt8] = []
        out.reserveCapacity(24)
        try writeNumber(value, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - Values

    @usableFromInline
    static func writeValue(_ value: JSONValue, into out: inout [UInt8]) throws {
        switch value {
        case .null:
            out.append(contentsOf: nullBytes)
        case .bool(let b):
            if b { out.append(contentsOf: trueBytes) } else { out.append(contentsOf: falseBytes) }
        case .number(let d):
            try writeNumber(d, into: &out)
        case .string(let s):
            writeString(s, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            var first = true
            for element in elements {
                if first { first = false } else { out.append(UInt8(ascii: ",")) }
                try writeValue(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            if members.count == 1 {
                let (k, v) = members.first!
                writeString(k, into: &out)
                out.append(UInt8(ascii: ":"))
                try writeValue(v, into: &out)
            } else if members.count > 1 {
                try writeMembers(members, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A key's UTF-8 bytes in a scratch buffer, and where its member is.
    private struct KeyRef {
        var offset: Int
        var length: Int
        var index: Dictionary<String, JSONValue>.Index
    }

    /// Writes `members` (two or more) sorted by key, without heap allocation for the sort: the
    /// keys' UTF-8 is copied into one stack buffer and small references to it are sorted.
    private static func writeMembers(_ members: [String: JSONValue], into out: inout [UInt8]) throws {
        let n = members.count
        var totalBytes = 0
        for key in members.keys { totalBytes &+= key.utf8.count }
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(totalBytes, 1)) { bytes in
            try withUnsafeTemporaryAllocation(of: KeyRef.self, capacity: n) { refsBuffer in
                var refs = refsBuffer
                var count = 0
                defer { _ = refs.baseAddress!.deinitialize(count: count) }
                var offset = 0
                var index = members.startIndex
                while index != members.endIndex {
                    let key = members.keys[index]
                    let length = copyUTF8(key, to: bytes.baseAddress! + offset)
                    refs.baseAddress!.advanced(by: count).initialize(to: KeyRef(offset: offset, length: length, index: index))
                    count &+= 1
                    offset &+= length
                    members.formIndex(after: &index)
                }
                let base = UnsafePointer(bytes.baseAddress!)
                @inline(__always) func precedes(_ a: KeyRef, _ b: KeyRef) -> Bool {
                    utf16Precedes(utf8: UnsafeBufferPointer(start: base + a.offset, count: a.length),
                                  UnsafeBufferPointer(start: base + b.offset, count: b.length))
                }
                if n <= 16 {
                    // Insertion sort: fastest for the small objects that dominate.
                    var i = 1
                    while i < n {
                        let current = refs[i]
                        var j = i
                        while j > 0 && precedes(current, refs[j &- 1]) {
                            refs[j] = refs[j &- 1]
                            j &-= 1
                        }
                        refs[j] = current
                        i &+= 1
                    }
                } else {
                    refs.sort(by: precedes)
                }
                for i in 0..<n {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    let ref = refs[i]
                    writeString(utf8: UnsafeBufferPointer(start: base + ref.offset, count: ref.length), into: &out)
                    out.append(UInt8(ascii: ":"))
                    try writeValue(members.values[ref.index], into: &out)
                }
            }
        }
    }

    /// Copies the UTF-8 of `s` to `destination` (which has room for `s.utf8.count` bytes).
    @inline(__always)
    private static func copyUTF8(_ s: String, to destination: UnsafeMutablePointer<UInt8>) -> Int {
        if let n = s.utf8.withContiguousStorageIfAvailable({ src -> Int in
            if let from = src.baseAddress { destination.update(from: from, count: src.count) }
            return src.count
        }) {
            return n
        }
        var n = 0
        for byte in s.utf8 {
            destination[n] = byte
            n &+= 1
        }
        return n
    }

    private static let nullBytes: [UInt8] = Array("null".utf8)
    private static let trueBytes: [UInt8] = Array("true".utf8)
    private static let falseBytes: [UInt8] = Array("false".utf8)

    // MARK: - Keys

    /// `true` when `a` sorts before `b` in RFC 8785 member order: lexicographic comparison of
    /// the strings' UTF-16 code units.
    ///
    /// This differs from Unicode scalar (and UTF-8 byte) order only when a character in
    /// U+E000…U+FFFF is compared with one above U+FFFF: in UTF-16 the latter starts with a
    /// surrogate (0xD800…0xDBFF) and so sorts first. It is also unrelated to Swift's `String <`,
    /// which compares canonically equivalent forms.
    package static func utf16Precedes(_ a: String, _ b: String) -> Bool {
        if let r = a.utf8.withContiguousStorageIfAvailable({ pa in
            b.utf8.withContiguousStorageIfAvailable { pb in utf16Precedes(utf8: pa, pb) }
        }), let r { return r }
        let ca = Array(a.utf8), cb = Array(b.utf8)
        return ca.withUnsafeBufferPointer { pa in cb.withUnsafeBufferPointer { pb in utf16Precedes(utf8: pa, pb) } }
    }

    /// ``utf16Precedes(_:_:)`` over two valid UTF-8 byte sequences.
    package static func utf16Precedes(utf8 a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = min(a.count, b.count)
        var i = 0
        while i < n {
            let x = a[i], y = b[i]
            if x != y {
                // Both bytes start the same-length prefix-equal scalar, or both are lead bytes
                // of scalars starting at the same offset. UTF-8 byte order is scalar order; the
                // only UTF-16 inversion is a 3-byte lead EE/EF (U+E000…U+FFFF) against a 4-byte
                // lead F0…F4 (U+10000 and above, a surrogate pair in UTF-16).
                if x >= 0xEE && y >= 0xEE {
                    let xs = x >= 0xF0, ys = y >= 0xF0
                    if xs != ys { return xs }
                }
                return x < y
            }
            i &+= 1
        }
        return a.count < b.count
    }

    // MARK: - Strings

    /// Appends `s` as an RFC 8785 JSON string literal (quotes included) to `out`.
    ///
    /// Escapes `"` and `\` with a backslash, U+0008/0009/000A/000C/000D as `\b \t \n \f \r`,
    /// other characters below U+0020 as `\u00xx` (lowercase hex); writes everything else as UTF-8.
    package static func writeString(_ s: String, into out: inout [UInt8]) {
        if s.utf8.withContiguousStorageIfAvailable({ writeString(utf8: $0, into: &out) }) == nil {
            var copy = s
            copy.makeContiguousUTF8()
            copy.utf8.withContiguousStorageIfAvailable { writeString(utf8: $0, into: &out) }
        }
    }

    /// Appends the valid UTF-8 `bytes` as an RFC 8785 JSON string literal (quotes included).
    /// `bytes` must be valid UTF-8; it is not checked.
    package static func writeString(utf8 bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        guard let base = bytes.baseAddress else {
            out.append(UInt8(ascii: "\""))
            return
        }
        let n = bytes.count
        var runStart = 0
        var i = 0
        while i < n {
            let c = base[i]
            if c >= 0x20 && c != 0x22 && c != 0x5C {
                i &+= 1
                continue
            }
            if i > runStart {
                out.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: i - runStart))
            }
            appendEscape(c, into: &out)
            i &+= 1
            runStart = i
        }
        if n > runStart {
            out.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: n - runStart))
        }
        out.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    private static func appendEscape(_ c: UInt8, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        switch c {
        case 0x22: out.append(0x22)
        case 0x5C: out.append(0x5C)
        case 0x08: out.append(UInt8(ascii: "b"))
        case 0x09: out.append(UInt8(ascii: "t"))
        case 0x0A: out.append(UInt8(ascii: "n"))
        case 0x0C: out.append(UInt8(ascii: "f"))
        case 0x0D: out.append(UInt8(ascii: "r"))
        default:
            out.append(UInt8(ascii: "u"))
            out.append(UInt8(ascii: "0"))
            out.append(UInt8(ascii: "0"))
            out.append(hexDigit(c >> 4))
            out.append(hexDigit(c & 0xF))
        }
    }

    @inline(__always)
    private static func hexDigit(_ v: UInt8) -> UInt8 {
        v < 10 ? 0x30 &+ v : 0x61 &+ (v &- 10)
    }

    // MARK: - Numbers

    /// Appends the ECMAScript `Number.prototype.toString` form of `value` (RFC 8785 §3.2.2.3).
    /// - Throws: ``CanonicalJSONError`` when `value` is NaN or infinite.
    package static func writeNumber(_ value: Double, into out: inout [UInt8]) throws {
        guard value.isFinite else { throw CanonicalJSONError.nonFinite(value) }
        if value == 0 {  // +0 and -0
            out.append(UInt8(ascii: "0"))
            return
        }
        // Fast path: integers of magnitude below 2^53 are their own shortest digits.
        if value.magnitude < 9_007_199_254_740_992.0, value == value.rounded(.towardZero) {
            writeInteger(Int64(value), into: &out)
            return
        }
        writeGeneralNumber(value, into: &out)
    }

    @inline(__always)
    private static func writeInteger(_ v: Int64, into out: inout [UInt8]) {
        var m = v.magnitude
        if v < 0 { out.append(UInt8(ascii: "-")) }
        if m < 10 {
            out.append(0x30 &+ UInt8(truncatingIfNeeded: m))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buf in
            var i = 20
            while m > 0 {
                i &-= 1
                let (q, r) = m.quotientAndRemainder(dividingBy: 10)
                buf[i] = 0x30 &+ UInt8(truncatingIfNeeded: r)
                m = q
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[i..<20]))
        }
    }

    /// Lays out shortest round-trip digits by the ES6 `Number::toString` rules.
    ///
    /// Swift's `Double.description` yields the shortest digit string that round-trips (and the
    /// closest such, as ECMAScript requires); only its layout differs, so the digits and the
    /// decimal exponent are taken from it.
    private static func writeGeneralNumber(_ value: Double, into out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var text = value.magnitude.description
        text.makeContiguousUTF8()
        text.utf8.withContiguousStorageIfAvailable { src in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 40) { digits in
                var k = 0            // significant digits collected
                var point = -1       // digits (including leading zeros) before the '.'
                var seen = 0         // digits seen, including leading zeros
                var leadingZeros = 0
                var exponent = 0
                var i = 0
                let n = src.count
                while i < n {
                    let c = src[i]
                    if c == UInt8(ascii: ".") {
                        point = seen
                    } else if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                        i += 1
                        var negative = false
                        if i < n, src[i] == UInt8(ascii: "-") { negative = true; i += 1 } else if i < n, src[i] == UInt8(ascii: "+") { i += 1 }
                        while i < n { exponent = exponent * 10 + Int(src[i] &- 0x30); i += 1 }
                        if negative { exponent = -exponent }
                        break
                    } else {
                        if k == 0 && c == UInt8(ascii: "0") {
                            leadingZeros += 1
                        } else if k < 40 {
                            digits[k] = c
                            k += 1
                        }
                        seen += 1
                    }
                    i += 1
                }
                if point < 0 { point = seen }
                while k > 1 && digits[k - 1] == UInt8(ascii: "0") { k -= 1 }
                // value = 0.d1d2…dk × 10^nExp
                let nExp = point - leadingZeros + exponent
                layout(UnsafeBufferPointer(rebasing: digits[0..<k]), n: nExp, into: &out)
            }
        }
    }

    /// ES6 Number::toString step 6–10, for digits `s` (k digits, no leading/trailing zeros)
    /// with value 0.s × 10^n.
    private static func layout(_ s: UnsafeBufferPointer<UInt8>, n: Int, into out: inout [UInt8]) {
        let k = s.count
        if k <= n && n <= 21 {
            out.append(contentsOf: s)
            for _ in 0..<(n - k) { out.append(UInt8(ascii: "0")) }
        } else if 0 < n && n <= 21 {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: s[0..<n]))
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: UnsafeBufferPointer(rebasing: s[n..<k]))
        } else if -6 < n && n <= 0 {
            out.append(UInt8(ascii: "0"))
            out.append(UInt8(ascii: "."))
            for _ in 0..<(-n) { out.append(UInt8(ascii: "0")) }
            out.append(contentsOf: s)
        } else {
            out.append(s[0])
            if k > 1 {
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: UnsafeBufferPointer(rebasing: s[1..<k]))
            }
            out.append(UInt8(ascii: "e"))
            let e = n - 1
            out.append(e < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            writeInteger(Int64(e.magnitude), into: &out)
        }
    }
}

/// An error from ``CanonicalJSON`` serialization.
package struct CanonicalJSONError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, e.g. `NaN cannot be represented in JSON`.
    package var message: String

    package init(message: String) { self.message = message }

    /// The error for a NaN or infinite number.
    package static func nonFinite(_ value: Double) -> CanonicalJSONError {
        let name = value.isNaN ? "NaN" : (value < 0 ? "-Infinity" : "Infinity")
        return CanonicalJSONError(message: "\(name) cannot be represented in JSON (RFC 8785 §3.2.2.3)")
    }

    package var description: String { "canonical JSON: \(message)" }
}

extension JSONValue: CustomStringConvertible {
    /// The RFC 8785 canonical text of this value.
    ///
    /// Values containing NaN or infinite numbers have no JSON form; for those the numbers are
    /// written as ECMAScript writes them (`NaN`, `Infinity`, `-Infinity`), which is not valid JSON.
    package var description: String {
        var out: [UInt8] = []
        describe(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private func describe(into out: inout [UInt8]) {
        switch self {
        case .number(let d) where !d.isFinite:
            out.append(contentsOf: (d.isNaN ? "NaN" : (d < 0 ? "-Infinity" : "Infinity")).utf8)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (i, e) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                e.describe(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, entry) in members.sorted(by: { CanonicalJSON.utf16Precedes($0.key, $1.key) }).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                CanonicalJSON.writeString(entry.key, into: &out)
                out.append(UInt8(ascii: ":"))
                entry.value.describe(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        default:
            // Finite scalars cannot fail.
            try? CanonicalJSON.writeValue(self, into: &out)
        }
    }
}
