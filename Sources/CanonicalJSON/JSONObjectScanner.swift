/// A fast, non-validating reader of the members of a JSON object text that is already known to
/// be valid, such as canonical bytes written by ``CanonicalJSON``.
///
/// ```swift
/// var scanner = JSONObjectScanner(bytes)
/// while let member = scanner.next() {
///     if JSONObjectScanner.keyEquals(bytes, member.key, "id") {
///         id = JSONObjectScanner.string(bytes, member.value)
///     }
/// }
/// ```
///
/// It builds no tree and allocates nothing; it finds string ends eight bytes at a time. It does
/// not check the grammar, UTF-8, escapes or duplicate keys: on malformed input it never traps or
/// reads out of bounds, but it may return members that a parser would reject, and it stops
/// (``next()`` returns `nil`) where it cannot go on. The buffer must outlive the scanner.
package struct JSONObjectScanner {
    /// One object member, as byte ranges of the scanned buffer.
    package struct Member: Sendable, Hashable {
        /// The key's raw bytes between its quotes, still escaped.
        package var key: Range<Int>
        /// The value's raw text: a string includes its quotes; an object or array its brackets.
        package var value: Range<Int>

        package init(key: Range<Int>, value: Range<Int>) {
            self.key = key
            self.value = value
        }
    }

    /// The scanned buffer.
    package let bytes: UnsafeRawBufferPointer
    private var position: Int
    private var first = true
    private var done: Bool

    /// A scanner over the object text `bytes` (leading whitespace allowed). A text that does not
    /// start with `{` has no members.
    package init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        let start = Self.skipWhitespace(bytes, from: 0)
        done = start >= bytes.count || bytes[start] != UInt8(ascii: "{")
        position = start &+ 1
    }

    /// The next member, or `nil` after the last one (or where the text is malformed).
    package mutating func next() -> Member? {
        guard !done else { return nil }
        guard let member = scanMember() else {
            done = true
            return nil
        }
        return member
    }

    private mutating func scanMember() -> Member? {
        let n = bytes.count
        var i = Self.skipWhitespace(bytes, from: position)
        guard i < n, bytes[i] != UInt8(ascii: "}") else { return nil }
        if !first {
            guard bytes[i] == UInt8(ascii: ",") else { return nil }
            i = Self.skipWhitespace(bytes, from: i &+ 1)
        }
        guard i < n, bytes[i] == UInt8(ascii: "\"") else { return nil }
        let keyEnd = Self.skipString(bytes, from: i)
        guard keyEnd > i else { return nil }
        let key = (i &+ 1)..<(keyEnd &- 1)
        i = Self.skipWhitespace(bytes, from: keyEnd)
        guard i < n, bytes[i] == UInt8(ascii: ":") else { return nil }
        i = Self.skipWhitespace(bytes, from: i &+ 1)
        let valueEnd = Self.skipValue(bytes, from: i)
        guard valueEnd > i else { return nil }
        position = valueEnd
        first = false
        return Member(key: key, value: i..<valueEnd)
    }

    // MARK: - Skipping

    /// The index just past the value that starts at `from` (its first byte, not whitespace), or
    /// `from` itself when no complete value starts there (e.g. an unterminated string, an
    /// unclosed object or array, or a structural character).
    ///
    /// A string ends at its closing quote; an object or array at the bracket that closes it
    /// (brackets are counted, not matched by kind); a number or literal at the end of its run
    /// of letters, digits, `+`, `-` and `.`.
    package static func skipValue(_ bytes: UnsafeRawBufferPointer, from: Int) -> Int {
        let n = bytes.count
        guard from >= 0, from < n else { return from }
        switch bytes[from] {
        case UInt8(ascii: "\""):
            return skipString(bytes, from: from)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            return skipContainer(bytes, from: from)
        default:
            var i = from
            while i < n, isScalarByte(bytes[i]) { i &+= 1 }
            return i
        }
    }

    @inline(__always)
    private static func isScalarByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."):
            return true
        default:
            return false
        }
    }

    /// The index just past the closing quote of the string whose opening quote is at `from`, or
    /// `from` when it is unterminated.
    static func skipString(_ bytes: UnsafeRawBufferPointer, from: Int) -> Int {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return from }
        let n = bytes.count
        var i = from &+ 1
        while true {
            i = ByteScan.firstQuoteOrBackslash(base, from: i, end: n)
            guard i < n else { return from }
            if base[i] == UInt8(ascii: "\"") { return i &+ 1 }
            i &+= 2  // a backslash and the byte it escapes
        }
    }

    /// The index just past the bracket that closes the object or array opening at `from`, or
    /// `from` when it is unclosed.
    private static func skipContainer(_ bytes: UnsafeRawBufferPointer, from: Int) -> Int {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return from }
        let n = bytes.count
        var depth = 0
        var i = from
        while i < n {
            switch base[i] {
            case UInt8(ascii: "\""):
                let end = skipString(bytes, from: i)
                guard end > i else { return from }
                i = end
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth &+= 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth &-= 1
                if depth == 0 { return i &+ 1 }
            default:
                break
            }
            i &+= 1
        }
        return from
    }

    private static func skipWhitespace(_ bytes: UnsafeRawBufferPointer, from: Int) -> Int {
        var i = from
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x0A, 0x0D, 0x09: i &+= 1
            default: return i
            }
        }
        return i
    }

    // MARK: - Strings

    /// Clamps `range` to `bytes` and, when it starts with a quote, drops the enclosing quotes:
    /// the bytes between the quotes of a string.
    private static func stringBody(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Range<Int> {
        let lower = min(max(range.lowerBound, 0), bytes.count)
        let upper = min(max(range.upperBound, lower), bytes.count)
        guard lower < upper, bytes[lower] == UInt8(ascii: "\"") else { return lower..<upper }
        if upper &- lower >= 2 && bytes[upper &- 1] == UInt8(ascii: "\"") { return (lower &+ 1)..<(upper &- 1) }
        return (lower &+ 1)..<upper
    }

    /// The decoded text of a string: `range` is either a string value with its quotes (as in
    /// ``Member/value``) or the bytes between the quotes (as in ``Member/key``); a range that
    /// starts with `"` is taken as the former, which is unambiguous for valid JSON.
    ///
    /// Escapes are decoded, surrogate pairs included; a malformed escape, a lone surrogate or
    /// invalid UTF-8 becomes U+FFFD. A range outside `bytes` is clamped to it.
    package static func string(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        let body = stringBody(bytes, range)
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return "" }
        let end = body.upperBound
        var i = ByteScan.firstQuoteOrBackslash(base, from: body.lowerBound, end: end)
        if i == end {
            return String(decoding: UnsafeBufferPointer(start: base + body.lowerBound, count: body.count), as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(body.count)
        out.append(contentsOf: UnsafeBufferPointer(start: base + body.lowerBound, count: i &- body.lowerBound))
        while i < end {
            let c = base[i]
            guard c == UInt8(ascii: "\\") else {
                out.append(c)
                i &+= 1
                continue
            }
            i = decodeEscape(base, at: i, end: end, into: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes the escape at `i` (a backslash) into `out`; returns the index after it.
    private static func decodeEscape(_ base: UnsafePointer<UInt8>, at i: Int, end: Int, into out: inout [UInt8]) -> Int {
        guard i &+ 1 < end else {
            UTF8Encoding.append(0xFFFD, to: &out)
            return end
        }
        if let byte = UTF8Encoding.unescaped(base[i &+ 1]) {
            out.append(byte)
            return i &+ 2
        }
        switch base[i &+ 1] {
        case UInt8(ascii: "u"):
            guard let unit = hex4(base, at: i &+ 2, end: end) else {
                UTF8Encoding.append(0xFFFD, to: &out)
                return i &+ 2
            }
            if unit >= 0xD800 && unit <= 0xDBFF, i &+ 12 <= end, base[i &+ 6] == UInt8(ascii: "\\"),
               base[i &+ 7] == UInt8(ascii: "u"), let low = hex4(base, at: i &+ 8, end: end), low >= 0xDC00 && low <= 0xDFFF {
                UTF8Encoding.append(0x10000 &+ ((unit &- 0xD800) << 10) &+ (low &- 0xDC00), to: &out)
                return i &+ 12
            }
            UTF8Encoding.append(unit >= 0xD800 && unit <= 0xDFFF ? 0xFFFD : unit, to: &out)
            return i &+ 6
        default:
            UTF8Encoding.append(0xFFFD, to: &out)
        }
        return i &+ 2
    }

    /// The value of four hex digits at `i..<i+4`, or `nil`.
    private static func hex4(_ base: UnsafePointer<UInt8>, at i: Int, end: Int) -> UInt32? {
        guard i &+ 4 <= end else { return nil }
        var v: UInt32 = 0
        for j in i..<(i &+ 4) {
            guard let d = UTF8Encoding.hexValue(base[j]) else { return nil }
            v = v << 4 | d
        }
        return v
    }

    // MARK: - Keys

    /// `true` when the key at `keyRange` (between its quotes, as in ``Member/key``) decodes to
    /// exactly the UTF-8 bytes of `literal`. Compares bytes in place; only a key with escapes
    /// is decoded first.
    package static func keyEquals(_ bytes: UnsafeRawBufferPointer, _ keyRange: Range<Int>, _ literal: StaticString) -> Bool {
        guard literal.hasPointerRepresentation else {
            return keyEquals(bytes, keyRange, Array(literal.description.utf8))
        }
        return keyEquals(bytes, keyRange, UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// `true` when the key at `keyRange` (between its quotes, as in ``Member/key``) decodes to
    /// exactly the UTF-8 bytes `literal`.
    package static func keyEquals(_ bytes: UnsafeRawBufferPointer, _ keyRange: Range<Int>, _ literal: [UInt8]) -> Bool {
        literal.withUnsafeBufferPointer { keyEquals(bytes, keyRange, $0) }
    }

    private static func keyEquals(_ bytes: UnsafeRawBufferPointer, _ keyRange: Range<Int>, _ literal: UnsafeBufferPointer<UInt8>) -> Bool {
        let lower = min(max(keyRange.lowerBound, 0), bytes.count)
        let upper = min(max(keyRange.upperBound, lower), bytes.count)
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return literal.isEmpty }
        var i = lower
        while true {
            i = ByteScan.firstQuoteOrBackslash(base, from: i, end: upper)
            if i == upper {
                // No escapes: the raw bytes are the key.
                guard upper &- lower == literal.count else { return false }
                for j in 0..<literal.count where base[lower &+ j] != literal[j] { return false }
                return true
            }
            if base[i] == UInt8(ascii: "\\") { break }
            i &+= 1
        }
        return string(bytes, lower..<upper).utf8.elementsEqual(literal)
    }
}
