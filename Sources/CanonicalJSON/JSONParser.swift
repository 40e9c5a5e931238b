/// A strict, byte-level JSON parser (RFC 8259 grammar, I-JSON rules of RFC 7493).
///
/// It accepts exactly one JSON value, optionally surrounded by JSON whitespace (space, tab,
/// LF, CR), and rejects with a ``JSONParseError`` (byte offset and message):
/// - anything after the value, a byte-order mark, comments, trailing commas;
/// - numbers outside the grammar (`01`, `+1`, `.5`, `1.`, `1e`, `NaN`, `Infinity`) and
///   numbers too large for a `Double` (`1e400`); tiny numbers round to zero as IEEE-754 says;
/// - raw control characters (below U+0020) in strings, unknown escapes, invalid UTF-8
///   (overlong forms, UTF-8-encoded surrogates, truncated sequences, beyond U+10FFFF),
///   and `\u` escapes that leave a surrogate unpaired; `\u0000` is allowed;
/// - duplicate object keys (compared after unescaping);
/// - input over ``JSONLimits``: nesting depth, bytes in one decoded string, total input bytes.
///
/// The parser never traps on malformed input. It recurses once per nesting level, so keep
/// ``JSONLimits/maxDepth`` modest (the default is 128).
package struct JSONParser: Sendable {
    /// The limits applied to every parse.
    package var limits: JSONLimits

    /// A parser with the given `limits`.
    package init(limits: JSONLimits = .default) { self.limits = limits }

    /// Parses one JSON value from the UTF-8 `bytes`.
    package func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        if bytes.count > limits.maxInputBytes {
            throw JSONParseError(offset: limits.maxInputBytes, message: "input larger than \(limits.maxInputBytes) bytes")
        }
        guard let raw = bytes.baseAddress, bytes.count > 0 else {
            throw JSONParseError(offset: 0, message: "unexpected end of input, expected a JSON value")
        }
        var state = _ParserState(base: raw.assumingMemoryBound(to: UInt8.self), count: bytes.count, limits: limits)
        return try state.parseDocument()
    }

    /// Parses one JSON value from the UTF-8 `bytes`.
    package func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = bytes.withUnsafeBytes { buf in
            do throws(JSONParseError) { return .success(try parse(buf)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Parses one JSON value from the UTF-8 of `string`.
    package func parse(_ string: String) throws(JSONParseError) -> JSONValue {
        var s = string
        s.makeContiguousUTF8()
        let result: Result<JSONValue, JSONParseError>? = s.utf8.withContiguousStorageIfAvailable { buf in
            do throws(JSONParseError) { return .success(try parse(UnsafeRawBufferPointer(buf))) } catch { return .failure(error) }
        }
        if let result { return try result.get() }
        return try parse(Array(string.utf8))
    }
}

/// Resource limits for ``JSONParser``.
package struct JSONLimits: Sendable, Hashable {
    /// Maximum nesting of arrays and objects; a top-level array or object is depth 1.
    package var maxDepth: Int
    /// Maximum length, in UTF-8 bytes after unescaping, of any one string (keys included).
    package var maxStringBytes: Int
    /// Maximum size of the whole input in bytes.
    package var maxInputBytes: Int

    package init(maxDepth: Int, maxStringBytes: Int, maxInputBytes: Int) {
        self.maxDepth = maxDepth; self.maxStringBytes = maxStringBytes; self.maxInputBytes = maxInputBytes
    }

    /// Depth 128, strings up to 1 MiB, input up to 64 MiB.
    package static let `default` = JSONLimits(maxDepth: 128, maxStringBytes: 1 << 20, maxInputBytes: 64 << 20)
}

/// Why ``JSONParser`` rejected its input.
package struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Zero-based byte offset in the input where the problem was found.
    package var offset: Int
    /// What is wrong, e.g. `duplicate key "a"`, `nesting deeper than 128`, `invalid UTF-8 sequence`.
    package var message: String

    package init(offset: Int, message: String) { self.offset = offset; self.message = message }

    package var description: String { "invalid JSON at byte \(offset): \(message)" }
}

// MARK: - Implementation

private let powersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

struct _Member {
    var key: String
    var value: JSONValue
    var offset: Int
}

struct _ParserState {
    let base: UnsafePointer<UInt8>
    let end: Int
    let limits: JSONLimits
    var pos = 0
    var depth = 0
    var scratch: [UInt8] = []
    var elementStack: [JSONValue] = []
    var memberStack: [_Member] = []

    init(base: UnsafePointer<UInt8>, count: Int, limits: JSONLimits) {
        self.base = base
        self.end = count
        self.limits = limits
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if pos < end {
            throw fail(pos, "unexpected \(describeByte(at: pos)) after the JSON value")
        }
        return value
    }

    // MARK: Helpers

    func fail(_ offset: Int, _ message: String) -> JSONParseError {
        JSONParseError(offset: offset, message: message)
    }

    func describeByte(at offset: Int) -> String {
        guard offset < end else { return "end of input" }
        let c = base[offset]
        if c >= 0x20 && c < 0x7F { return "character '\(Character(Unicode.Scalar(c)))'" }
        return "byte 0x" + (c < 0x10 ? "0" : "") + String(c, radix: 16, uppercase: true)
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < end {
            let c = base[pos]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos &+= 1 } else { return }
        }
    }

    // MARK: Values

    mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard pos < end else { throw fail(pos, "unexpected end of input, expected a JSON value") }
        switch base[pos] {
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "{"):
            return try parseObject()
        case UInt8(ascii: "["):
            return try parseArray()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try parseNumber())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "N"), UInt8(ascii: "I"):
            throw fail(pos, "NaN and Infinity are not valid JSON")
        case UInt8(ascii: "+"), UInt8(ascii: "."):
            throw fail(pos, "a number must start with '-' or a digit")
        default:
            throw fail(pos, "unexpected \(describeByte(at: pos)), expected a JSON value")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let n = literal.utf8CodeUnitCount
        let lit = literal.utf8Start
        let start = pos
        for i in 0..<n {
            if start + i >= end || base[start + i] != lit[i] {
                throw fail(start, "invalid literal, expected '\(literal)'")
            }
        }
        pos = start + n
    }

    mutating func enter(_ at: Int) throws(JSONParseError) {
        depth &+= 1
        if depth > limits.maxDepth { throw fail(at, "nesting deeper than \(limits.maxDepth)") }
    }

    mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enter(pos)
        pos &+= 1
        skipWhitespace()
        if pos < end && base[pos] == UInt8(ascii: "]") {
            pos &+= 1
            depth &-= 1
            return .array([])
        }
        // Elements collect on a shared stack so the result is allocated once, at its size.
        let first = elementStack.count
        while true {
            skipWhitespace()
            let element = try parseValue()
            elementStack.append(element)
            skipWhitespace()
            guard pos < end else { throw fail(pos, "unexpected end of input in array, expected ',' or ']'") }
            let c = base[pos]
            pos &+= 1
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "]") { break }
            throw fail(pos - 1, "unexpected \(describeByte(at: pos - 1)) in array, expected ',' or ']'")
        }
        let elements = Array(elementStack[first...])
        elementStack.removeSubrange(first...)
        depth &-= 1
        return .array(elements)
    }

    mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enter(pos)
        pos &+= 1
        skipWhitespace()
        if pos < end && base[pos] == UInt8(ascii: "}") {
            pos &+= 1
            depth &-= 1
            return .object([:])
        }
        // Members collect on a shared stack so the dictionary is allocated once, at its size.
        let first = memberStack.count
        while true {
            skipWhitespace()
            guard pos < end, base[pos] == UInt8(ascii: "\"") else {
                throw fail(pos, "unexpected \(describeByte(at: pos)) in object, expected a string key")
            }
            let keyStart = pos
            let key = try parseString()
            skipWhitespace()
            guard pos < end, base[pos] == UInt8(ascii: ":") else {
                throw fail(pos, "unexpected \(describeByte(at: pos)) in object, expected ':'")
            }
            pos &+= 1
            skipWhitespace()
            let value = try parseValue()
            memberStack.append(_Member(key: key, value: value, offset: keyStart))
            skipWhitespace()
            guard pos < end else { throw fail(pos, "unexpected end of input in object, expected ',' or '}'") }
            let c = base[pos]
            pos &+= 1
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "}") { break }
            throw fail(pos - 1, "unexpected \(describeByte(at: pos - 1)) in object, expected ',' or '}'")
        }
        var members = [String: JSONValue](minimumCapacity: memberStack.count - first)
        for i in first..<memberStack.count {
            let m = memberStack[i]
            if members.updateValue(m.value, forKey: m.key) != nil {
                throw duplicateKey(m, previous: members.index(forKey: m.key).map { members.keys[$0] } ?? m.key)
            }
        }
        memberStack.removeSubrange(first...)
        depth &-= 1
        return .object(members)
    }

    func duplicateKey(_ m: _Member, previous: String) -> JSONParseError {
        var quoted: [UInt8] = []
        CanonicalJSON.writeString(m.key, into: &quoted)
        var message = "duplicate key \(String(decoding: quoted, as: UTF8.self))"
        if !previous.utf8.elementsEqual(m.key.utf8) {
            // Swift `String` equality is Unicode canonical equivalence, so a `[String: JSONValue]`
            // cannot hold both keys.
            quoted.removeAll()
            CanonicalJSON.writeString(previous, into: &quoted)
            message += " (canonically equivalent to \(String(decoding: quoted, as: UTF8.self)))"
        }
        return fail(m.offset, message)
    }

    // MARK: Strings

    /// Parses a string starting at the opening quote at `pos`.
    mutating func parseString() throws(JSONParseError) -> String {
        let quote = pos
        pos &+= 1
        let start = pos
        // Fast path: printable ASCII without escapes.
        while pos < end {
            let c = base[pos]
            if c == UInt8(ascii: "\"") {
                let length = pos &- start
                if length > limits.maxStringBytes {
                    throw fail(quote, "string longer than \(limits.maxStringBytes) bytes")
                }
                pos &+= 1
                return String(decoding: UnsafeBufferPointer(start: base + start, count: length), as: UTF8.self)
            }
            if c == UInt8(ascii: "\\") || c < 0x20 || c >= 0x80 { break }
            pos &+= 1
        }
        return try parseStringSlow(quote: quote, start: start)
    }

    mutating func parseStringSlow(quote: Int, start: Int) throws(JSONParseError) -> String {
        var escaped = false
        var runStart = start
        scratch.removeAll(keepingCapacity: true)
        while true {
            guard pos < end else { throw fail(quote, "unterminated string") }
            let c = base[pos]
            if c == UInt8(ascii: "\"") { break }
            if c == UInt8(ascii: "\\") {
                escaped = true
                if pos > runStart {
                    scratch.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: pos - runStart))
                }
                try parseEscape()
                runStart = pos
                if scratch.count > limits.maxStringBytes {
                    throw fail(quote, "string longer than \(limits.maxStringBytes) bytes")
                }
                continue
            }
            if c < 0x20 {
                throw fail(pos, "unescaped control character U+00" + (c < 0x10 ? "0" : "") + String(c, radix: 16, uppercase: true) + " in string")
            }
            if c < 0x80 {
                pos &+= 1
                continue
            }
            pos &+= try validateUTF8Sequence(at: pos)
        }
        let result: String
        if escaped {
            if pos > runStart {
                scratch.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: pos - runStart))
            }
            if scratch.count > limits.maxStringBytes {
                throw fail(quote, "string longer than \(limits.maxStringBytes) bytes")
            }
            result = String(decoding: scratch, as: UTF8.self)
        } else {
            if pos - start > limits.maxStringBytes {
                throw fail(quote, "string longer than \(limits.maxStringBytes) bytes")
            }
            result = String(decoding: UnsafeBufferPointer(start: base + start, count: pos - start), as: UTF8.self)
        }
        pos &+= 1
        return result
    }

    /// Validates the multi-byte UTF-8 sequence whose lead byte is at `at`; returns its length.
    func validateUTF8Sequence(at i: Int) throws(JSONParseError) -> Int {
        let lead = base[i]
        let length: Int
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF  // allowed range of the second byte
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lo = 0xA0  // no overlongs
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; hi = 0x9F  // no surrogates U+D800…U+DFFF
        case 0xF0: length = 4; lo = 0x90  // no overlongs
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; hi = 0x8F  // nothing above U+10FFFF
        case 0x80...0xBF:
            throw fail(i, "invalid UTF-8 sequence (unexpected continuation byte 0x\(String(lead, radix: 16, uppercase: true)))")
        default:
            throw fail(i, "invalid UTF-8 sequence (invalid lead byte 0x\(String(lead, radix: 16, uppercase: true)))")
        }
        guard i + length <= end else { throw fail(i, "invalid UTF-8 sequence (truncated)") }
        let second = base[i + 1]
        guard second >= lo && second <= hi else {
            throw fail(i, "invalid UTF-8 sequence (overlong, surrogate, out of range or truncated)")
        }
        var j = 2
        while j < length {
            let c = base[i + j]
            guard c & 0xC0 == 0x80 else { throw fail(i, "invalid UTF-8 sequence (truncated)") }
            j += 1
        }
        return length
    }

    /// Parses the escape at `pos` (a backslash), appending its UTF-8 to `scratch`.
    mutating func parseEscape() throws(JSONParseError) {
        let at = pos
        guard pos + 1 < end else { throw fail(at, "unterminated escape sequence") }
        let e = base[pos + 1]
        pos &+= 2
        if let byte = UTF8Encoding.unescaped(e) {
            scratch.append(byte)
            return
        }
        switch e {
        case UInt8(ascii: "u"):
            var scalar = try parseHex4(escapeAt: at)
            if scalar >= 0xDC00 && scalar <= 0xDFFF {
                throw fail(at, "unpaired low surrogate escape \\u\(String(scalar, radix: 16, uppercase: true))")
            }
            if scalar >= 0xD800 && scalar <= 0xDBFF {
                guard pos + 1 < end, base[pos] == UInt8(ascii: "\\"), base[pos + 1] == UInt8(ascii: "u") else {
                    throw fail(at, "unpaired high surrogate escape \\u\(String(scalar, radix: 16, uppercase: true))")
                }
                let lowAt = pos
                pos &+= 2
                let low = try parseHex4(escapeAt: lowAt)
                guard low >= 0xDC00 && low <= 0xDFFF else {
                    throw fail(at, "high surrogate escape \\u\(String(scalar, radix: 16, uppercase: true)) not followed by a low surrogate escape")
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            appendUTF8(scalar)
        default:
            throw fail(at, "invalid escape sequence '\\\(e >= 0x20 && e < 0x7F ? String(Character(Unicode.Scalar(e))) : "0x" + String(e, radix: 16))'")
        }
    }

    /// Parses four hex digits at `pos` (after `\u`).
    mutating func parseHex4(escapeAt: Int) throws(JSONParseError) -> UInt32 {
        guard pos + 4 <= end else { throw fail(escapeAt, "truncated \\u escape, expected four hex digits") }
        var v: UInt32 = 0
        for i in 0..<4 {
            guard let d = UTF8Encoding.hexValue(base[pos + i]) else {
                throw fail(escapeAt, "invalid \\u escape, expected four hex digits")
            }
            v = v << 4 | d
        }
        pos &+= 4
        return v
    }

    mutating func appendUTF8(_ v: UInt32) {
        UTF8Encoding.append(v, to: &scratch)
    }

    // MARK: Numbers

    @inline(__always)
    func isDigit(_ i: Int) -> Bool {
        i < end && base[i] &- 0x30 < 10
    }

    mutating func parseNumber() throws(JSONParseError) -> Double {
        let start = pos
        var negative = false
        if base[pos] == UInt8(ascii: "-") {
            negative = true
            pos &+= 1
        }
        guard isDigit(pos) else { throw fail(pos, "expected a digit in number") }
        var mantissa: UInt64 = 0
        var digitCount = 0  // digits accumulated in mantissa (leading zeros are free)
        var exact = true    // mantissa holds every significant digit
        if base[pos] == UInt8(ascii: "0") {
            pos &+= 1
            if isDigit(pos) { throw fail(start, "leading zeros are not allowed in numbers") }
        } else {
            while isDigit(pos) {
                if digitCount < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(base[pos] &- 0x30)
                    digitCount &+= 1
                } else {
                    exact = false
                }
                pos &+= 1
            }
        }
        var fractionDigits = 0
        if pos < end && base[pos] == UInt8(ascii: ".") {
            pos &+= 1
            guard isDigit(pos) else { throw fail(pos, "expected a digit after the decimal point") }
            while isDigit(pos) {
                let d = UInt64(base[pos] &- 0x30)
                if digitCount < 19 {
                    if mantissa != 0 || d != 0 { digitCount &+= 1 }
                    mantissa = mantissa &* 10 &+ d
                    fractionDigits &+= 1
                } else {
                    exact = false
                }
                pos &+= 1
            }
        }
        var exponent = 0
        if pos < end && (base[pos] == UInt8(ascii: "e") || base[pos] == UInt8(ascii: "E")) {
            pos &+= 1
            var expNegative = false
            if pos < end && (base[pos] == UInt8(ascii: "+") || base[pos] == UInt8(ascii: "-")) {
                expNegative = base[pos] == UInt8(ascii: "-")
                pos &+= 1
            }
            guard isDigit(pos) else { throw fail(pos, "expected a digit in the exponent") }
            while isDigit(pos) {
                if exponent < 100_000 { exponent = exponent &* 10 &+ Int(base[pos] &- 0x30) }
                pos &+= 1
            }
            if expNegative { exponent = -exponent }
        }
        // Exact fast path (Clinger): an integer mantissa ≤ 2^53 scaled by an exactly
        // representable power of ten is correctly rounded by one IEEE operation.
        if exact && mantissa <= (1 << 53) {
            let e10 = exponent - fractionDigits
            var value: Double?
            if e10 == 0 {
                value = Double(mantissa)
            } else if e10 > 0 && e10 <= 22 {
                value = Double(mantissa) * powersOfTen[e10]
            } else if e10 < 0 && e10 >= -22 {
                value = Double(mantissa) / powersOfTen[-e10]
            }
            if let value { return negative ? -value : value }
        }
        // General path: correctly rounded conversion of the validated text.
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: pos - start), as: UTF8.self)
        guard let value = Double(text) else { throw fail(start, "invalid number") }
        guard value.isFinite else { throw fail(start, "number \(text.count > 40 ? String(text.prefix(40)) + "…" : text) is out of range for a Double") }
        return value
    }
}
