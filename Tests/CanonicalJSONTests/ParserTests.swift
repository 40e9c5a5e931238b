import Testing
@testable import CanonicalJSON

func parseError(_ bytes: [UInt8], limits: JSONLimits = .default) -> JSONParseError? {
    do {
        _ = try JSONParser(limits: limits).parse(bytes)
        return nil
    } catch {
        return error
    }
}

func parseError(_ text: String, limits: JSONLimits = .default) -> JSONParseError? {
    parseError(Array(text.utf8), limits: limits)
}

@Suite struct ParserAcceptTests {
    let parser = JSONParser()

    @Test func values() throws {
        #expect(try parser.parse("null") == .null)
        #expect(try parser.parse(" \t\r\ntrue\n") == .bool(true))
        #expect(try parser.parse("false") == .bool(false))
        #expect(try parser.parse(" [ 1 , \"a\" , [ ] , { } ] ") == [1, "a", [], [:]])
        #expect(try parser.parse(#"{"a":{"b":[null]}}"#) == ["a": ["b": [nil]]])
        #expect(try parser.parse(#""""#) == "")
    }

    @Test func stringEscapes() throws {
        #expect(try parser.parse(#""\u0000""#) == .string("\u{0}"))
        #expect(try parser.parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{8}\u{C}\n\r\t"))
        #expect(try parser.parse(#""\u00e9\u00C9\u20AC""#) == .string("éÉ€"))
        #expect(try parser.parse(#""\ud83d\ude00x""#) == .string("😀x"))
        #expect(try parser.parse(#""\uDBFF\uDFFF""#) == .string("\u{10FFFF}"))
        #expect(try parser.parse("\"é€😀\u{7F}\u{2028}\"") == .string("é€😀\u{7F}\u{2028}"))
        #expect(try parser.parse("\"abc\\ndef\u{E9}\"") == .string("abc\ndef\u{E9}"))
    }

    @Test func boundaryUTF8() throws {
        // Smallest and largest valid sequence of each length.
        let valid: [[UInt8]] = [[0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80],
                                [0xEF, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF]]
        for seq in valid {
            let v = try parser.parse([0x22] + seq + [0x22])
            #expect(Array(v.stringValue!.utf8) == seq)
        }
    }

    @Test func overloads() throws {
        let text = #"{"k":[1,2]}"#
        let bytes = Array(text.utf8)
        let a = try parser.parse(text)
        let b = try parser.parse(bytes)
        let c = try bytes.withUnsafeBytes { buf in try parser.parse(buf) }
        #expect(a == b && b == c)
        #expect(try parser.parse(Substring("xx[3]").dropFirst(2).description) == [3])
    }

    @Test func nestingUpToLimit() throws {
        let deep = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        #expect(throws: Never.self) { try parser.parse(deep) }
        let objects = String(repeating: #"{"a":"#, count: 128) + "1" + String(repeating: "}", count: 128)
        #expect(throws: Never.self) { try parser.parse(objects) }
    }
}

@Suite struct ParserRejectTests {
    /// (input, expected offset, expected message fragment)
    static let cases: [(String, Int, String)] = [
        ("", 0, "unexpected end of input"),
        ("   ", 3, "unexpected end of input"),
        ("1 2", 2, "after the JSON value"),
        ("{} x", 3, "unexpected character 'x' after the JSON value"),
        ("[1]]", 3, "after the JSON value"),
        ("01", 0, "leading zeros"),
        ("-01", 0, "leading zeros"),
        ("[00]", 1, "leading zeros"),
        ("+1", 0, "must start with '-' or a digit"),
        (".5", 0, "must start with '-' or a digit"),
        ("1.", 2, "expected a digit after the decimal point"),
        ("1.e5", 2, "expected a digit after the decimal point"),
        ("1e", 2, "expected a digit in the exponent"),
        ("1e+", 3, "expected a digit in the exponent"),
        ("-", 1, "expected a digit"),
        ("-a", 1, "expected a digit"),
        ("NaN", 0, "NaN and Infinity are not valid JSON"),
        ("Infinity", 0, "NaN and Infinity are not valid JSON"),
        ("-Infinity", 1, "expected a digit"),
        ("1e400", 0, "out of range"),
        ("[-1.5e309]", 1, "out of range"),
        ("179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792", 0, "out of range"),
        ("tru", 0, "invalid literal"),
        ("nul", 0, "invalid literal"),
        ("falsey", 5, "after the JSON value"),
        ("True", 0, "unexpected character 'T'"),
        ("\"a\nb\"", 2, "unescaped control character U+000A"),
        ("\"\t\"", 1, "unescaped control character U+0009"),
        ("\"\u{1F}\"", 1, "unescaped control character U+001F"),
        ("\"abc", 0, "unterminated string"),
        ("[\"abc\\", 5, "unterminated escape"),
        (#""\x""#, 1, "invalid escape sequence '\\x'"),
        (#""\U0041""#, 1, "invalid escape sequence"),
        (#""\u12""#, 1, "\\u escape"),
        (#""\u12G4""#, 1, "\\u escape"),
        (#""\ud800""#, 1, "unpaired high surrogate"),
        (#""\udc00""#, 1, "unpaired low surrogate"),
        (#""a\ud800\u0041""#, 2, "not followed by a low surrogate"),
        (#""\ud800x""#, 1, "unpaired high surrogate"),
        (#""\ud800\ud800""#, 1, "not followed by a low surrogate"),
        (#"{"a":1,"a":2}"#, 7, #"duplicate key "a""#),
        (#"{"a":1,"\u0061":2}"#, 7, #"duplicate key "a""#),
        (#"{"x":{"k\n":1,"b":2,"k\n":3}}"#, 20, #"duplicate key "k\n""#),
        ("[1,]", 3, "expected a JSON value"),
        ("[1 2]", 3, "expected ',' or ']'"),
        ("[", 1, "unexpected end of input"),
        ("[1", 2, "unexpected end of input in array"),
        ("{", 1, "expected a string key"),
        (#"{"a" 1}"#, 5, "expected ':'"),
        ("{1:2}", 1, "expected a string key"),
        (#"{"a":1,}"#, 7, "expected a string key"),
        (#"{"a":1"#, 6, "unexpected end of input in object"),
        (#"{"a":1 "b":2}"#, 7, "expected ',' or '}'"),
        ("// c\n1", 0, "unexpected character '/'"),
        ("'a'", 0, "unexpected character"),
    ]

    @Test func rejections() {
        for (input, offset, fragment) in Self.cases {
            guard let error = parseError(input) else {
                Issue.record("accepted \(input.debugDescription)")
                continue
            }
            #expect(error.offset == offset, "\(input.debugDescription): \(error)")
            #expect(error.message.contains(fragment), "\(input.debugDescription): \(error)")
        }
    }

    @Test func invalidUTF8() {
        let cases: [([UInt8], Int, String)] = [
            ([0x22, 0xC0, 0x80, 0x22], 1, "invalid UTF-8 sequence"),                  // overlong NUL
            ([0x22, 0xC1, 0xBF, 0x22], 1, "invalid UTF-8 sequence"),                  // overlong 2-byte
            ([0x22, 0xE0, 0x9F, 0xBF, 0x22], 1, "invalid UTF-8 sequence"),            // overlong 3-byte
            ([0x22, 0xF0, 0x8F, 0xBF, 0xBF, 0x22], 1, "invalid UTF-8 sequence"),      // overlong 4-byte
            ([0x22, 0x61, 0xED, 0xA0, 0x80, 0x22], 2, "invalid UTF-8 sequence"),      // U+D800 in UTF-8
            ([0x22, 0xED, 0xBF, 0xBF, 0x22], 1, "invalid UTF-8 sequence"),            // U+DFFF in UTF-8
            ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1, "invalid UTF-8 sequence"),      // U+110000
            ([0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], 1, "invalid UTF-8 sequence"),
            ([0x22, 0xFF, 0x22], 1, "invalid UTF-8 sequence"),
            ([0x22, 0x80, 0x22], 1, "invalid UTF-8 sequence"),                        // lone continuation
            ([0x22, 0xE2, 0x82, 0x22], 1, "invalid UTF-8 sequence"),                  // truncated, then quote
            ([0x22, 0xE2, 0x82], 1, "invalid UTF-8 sequence"),                        // truncated at end
            ([0x22, 0xF0, 0x9F, 0x98], 1, "invalid UTF-8 sequence"),
            ([0x22, 0x5C, 0x6E, 0xC3, 0x22], 3, "invalid UTF-8 sequence"),            // after an escape
            ([0xEF, 0xBB, 0xBF, 0x31], 0, "unexpected byte 0xEF"),                    // byte-order mark
            ([0x5B, 0xC3, 0xA9, 0x5D], 1, "unexpected byte 0xC3"),                    // non-ASCII outside a string
            ([0x31, 0x00], 1, "unexpected byte 0x00 after the JSON value"),
        ]
        for (bytes, offset, fragment) in cases {
            guard let error = parseError(bytes) else {
                Issue.record("accepted \(hex(bytes))")
                continue
            }
            #expect(error.offset == offset, "\(hex(bytes)): \(error)")
            #expect(error.message.contains(fragment), "\(hex(bytes)): \(error)")
        }
    }

    @Test func depthLimit() {
        let tooDeep = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        let error = parseError(tooDeep)
        #expect(error == JSONParseError(offset: 128, message: "nesting deeper than 128"))
        let small = JSONLimits(maxDepth: 2, maxStringBytes: 100, maxInputBytes: 100)
        #expect(parseError("[[1]]", limits: small) == nil)
        #expect(parseError(#"[{"a":[]}]"#, limits: small)?.offset == 6)
        #expect(parseError(#"{"a":{"b":{}}}"#, limits: small)?.message == "nesting deeper than 2")
        // Very deep input fails fast instead of exhausting the stack.
        let huge = String(repeating: "[", count: 1_000_000)
        #expect(parseError(huge)?.offset == 128)
    }

    @Test func stringLimit() {
        let limits = JSONLimits(maxDepth: 8, maxStringBytes: 3, maxInputBytes: 1000)
        #expect(parseError(#""abc""#, limits: limits) == nil)
        #expect(parseError(#""é""#, limits: limits) == nil)
        #expect(parseError(#""abcd""#, limits: limits) == JSONParseError(offset: 0, message: "string longer than 3 bytes"))
        #expect(parseError(#"["ab","\u00e9\u00e9"]"#, limits: limits)?.offset == 6)  // 4 bytes decoded
        #expect(parseError(#"{"abcd":1}"#, limits: limits)?.offset == 1)             // keys count
        #expect(parseError("[\"\u{E9}\u{E9}\"]", limits: limits)?.message == "string longer than 3 bytes")
    }

    @Test func inputLimit() {
        let limits = JSONLimits(maxDepth: 8, maxStringBytes: 100, maxInputBytes: 4)
        #expect(parseError("1234", limits: limits) == nil)
        #expect(parseError("12345", limits: limits) == JSONParseError(offset: 4, message: "input larger than 4 bytes"))
    }

    @Test func errorDescription() {
        let error = parseError(#"{"a":1,"a":2}"#)
        #expect(error?.description == #"invalid JSON at byte 7: duplicate key "a""#)
    }

    @Test func canonicalizeRethrowsParseErrors() {
        #expect(throws: JSONParseError.self) { try CanonicalJSON.canonicalize(Array("[1,]".utf8)) }
    }
}

@Suite struct ParserKnownLimitationTests {
    /// `JSONValue.object` is a `[String: JSONValue]`, and Swift compares `String`s by Unicode
    /// canonical equivalence, so keys that differ only in normalization cannot coexist; the parser
    /// reports them as duplicates rather than silently dropping one.
    @Test func canonicallyEquivalentKeysAreDuplicates() {
        let error = parseError(#"{"\u00e9":1,"e\u0301":2}"#)
        #expect(error?.offset == 12)
        #expect(error?.message.hasPrefix("duplicate key") == true)
        #expect(error?.message.contains("canonically equivalent") == true)
    }
}
