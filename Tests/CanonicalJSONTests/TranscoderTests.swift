import AtlasTesting
import Testing
@testable import CanonicalJSON

/// The tree path: `serialize(parse(bytes))`, or the parser's error.
func treeCanonical(_ bytes: [UInt8], limits: JSONLimits = .default) -> Result<[UInt8], JSONParseError> {
    do {
        let value = try JSONParser(limits: limits).parse(bytes)
        return .success(try! CanonicalJSON.serialize(value))
    } catch {
        return .failure(error)
    }
}

/// The transcoder: `canonicalize(_:limits:into:)` appending to a non-empty buffer, or its error.
/// Records an issue when it does not append (or, on failure, leaves the buffer changed).
func transcoded(_ bytes: [UInt8], limits: JSONLimits = .default,
                sourceLocation: SourceLocation = #_sourceLocation) -> Result<[UInt8], JSONParseError> {
    let prefix: [UInt8] = [0xAA, 0xBB]
    var out = prefix
    do {
        try bytes.withUnsafeBytes { try CanonicalJSON.canonicalize($0, limits: limits, into: &out) }
    } catch let error as JSONParseError {
        #expect(out == prefix, "a failed transcode changed the buffer", sourceLocation: sourceLocation)
        return .failure(error)
    } catch {
        Issue.record("unexpected error type \(error)", sourceLocation: sourceLocation)
        return .failure(JSONParseError(offset: -1, message: "\(error)"))
    }
    #expect(Array(out.prefix(2)) == prefix, "the buffer's prefix was changed", sourceLocation: sourceLocation)
    return .success(Array(out.dropFirst(2)))
}

/// Expects the transcoder and the tree path to agree on `bytes`: both fail, or both succeed with
/// identical output. Returns whether they succeeded.
@discardableResult
func expectSameCanonical(_ bytes: [UInt8], limits: JSONLimits = .default,
                         sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
    let tree = treeCanonical(bytes, limits: limits)
    let fast = transcoded(bytes, limits: limits, sourceLocation: sourceLocation)
    switch (tree, fast) {
    case (.success(let a), .success(let b)):
        let same = a == b
        #expect(same, "\(String(decoding: bytes, as: UTF8.self)) [\(hex(bytes))]: tree \(String(decoding: a, as: UTF8.self)), transcoder \(String(decoding: b, as: UTF8.self))",
                sourceLocation: sourceLocation)
        return true
    case (.failure(let e), .failure(let f)):
        #expect(!f.message.isEmpty, sourceLocation: sourceLocation)
        #expect(f.offset >= 0 && f.offset <= max(bytes.count, limits.maxInputBytes), "\(f) (parser: \(e))", sourceLocation: sourceLocation)
        return false
    case (.success(let a), .failure(let f)):
        Issue.record("transcoder rejected \(hex(bytes)) (\(String(decoding: bytes, as: UTF8.self))) that parses to \(String(decoding: a, as: UTF8.self)): \(f)",
                     sourceLocation: sourceLocation)
        return false
    case (.failure(let e), .success(let b)):
        Issue.record("transcoder accepted \(hex(bytes)) (\(String(decoding: bytes, as: UTF8.self))) as \(String(decoding: b, as: UTF8.self)); parser: \(e)",
                     sourceLocation: sourceLocation)
        return false
    }
}

func transcodedText(_ json: String) throws -> String {
    String(decoding: try transcoded(Array(json.utf8)).get(), as: UTF8.self)
}

@Suite struct TranscoderTests {
    @Test func publishedVectors() throws {
        for (input, canonicalHex) in PublishedVectorTests.documents {
            #expect(expectSameCanonical(Array(input.utf8)))
            #expect(hex(try transcoded(Array(input.utf8)).get()) == canonicalHex, "\(input)")
        }
        let rfc = #"{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}"#
        #expect(try transcodedText(rfc) == #"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#)
    }

    @Test func handCases() throws {
        let cases: [(String, String)] = [
            (#"{"b":2,"a":1,"c":{"z":[3,{"y":1,"x":2}],"a":null}}"#, #"{"a":1,"b":2,"c":{"a":null,"z":[3,{"x":2,"y":1}]}}"#),
            (#"{"ab":1,"a":2,"":3,"b":4}"#, #"{"":3,"a":2,"ab":1,"b":4}"#),
            // UTF-16 order: supplementary-plane keys sort before U+E000…U+FFFF; UTF-8 byte order would not.
            (#"{"\uffff":1,"😀":2,"\ue000":3,"\ud800\udc00":4,"z":5,"\u00e9":6}"#, #"{"z":5,"é":6,"𐀀":4,"😀":2,"\#u{E000}":3,"\#u{FFFF}":1}"#),
            (#"{"😀":1,"\#u{FB33}":2}"#, #"{"😀":1,"\#u{FB33}":2}"#),
            (#"{"\#u{FB33}":1,"😀":2}"#, #"{"😀":2,"\#u{FB33}":1}"#),
            (#"["\u0041\u00e9\u20AC\ud83d\ude00","\/\b\f\n\r\t\"\\","\u0000\u001F\u007f","\u2028"]"#, "[\"Aé€😀\",\"/\\b\\f\\n\\r\\t\\\"\\\\\",\"\\u0000\\u001f\u{7F}\",\"\u{2028}\"]"),
            (#"{"\u0061":1,"\n":2}"#, #"{"\n":2,"a":1}"#),
            ("[1e21,1E-7,-0,0.1,123456789012345678,1e20,-0.0,0e5,1E+2,5e-324,1e-400,100,-7,999999999999999,1000000000000000]",
             "[1e+21,1e-7,0,0.1,123456789012345680,100000000000000000000,0,0,100,5e-324,0,100,-7,999999999999999,1000000000000000]"),
            ("[9007199254740993,-9007199254740993,0.30000000000000004,1.5e300,-1e-7,4.50,2e-3,0.000001]",
             "[9007199254740992,-9007199254740992,0.30000000000000004,1.5e+300,-1e-7,4.5,0.002,0.000001]"),
            (" \t\r\n{ \"b\" :\t[ 1 ,\n2 ] ,\r\"a\" : { } , \"c\" : [ ] } \n ", #"{"a":{},"b":[1,2],"c":[]}"#),
            ("\"x\"", "\"x\""), ("true", "true"), ("false", "false"), ("null", "null"), ("0", "0"), ("-0", "0"), ("[]", "[]"), ("{}", "{}"),
        ]
        for (input, expected) in cases {
            #expect(expectSameCanonical(Array(input.utf8)), "\(input)")
            #expect(try transcodedText(input) == expected, "\(input)")
        }
    }

    @Test func rejections() {
        let invalid = [
            "", " ", "[1,]", "{\"a\":1,}", "[1 2]", "{\"a\" 1}", "{1:2}", "01", "-01", "1.", ".5", "+1", "1e", "1e+", "-", "NaN", "Infinity",
            "1e400", "-1e400", "[1] x", "tru", "nul", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
            "\"a\u{1}b\"", "\u{FEFF}1", "[\"a\"]]", "{\"a\":1 \"b\":2}", "/* c */ 1", "'a'", "[", "{", "{\"a\"", "{\"a\":", "\u{0B}1",
            #"{"a":1,"a":2}"#, #"{"a":1,"\u0061":2}"#, #"{"b":{"x":1,"x":1}}"#, #"{"z":1,"a":2,"z":3}"#,
            // Canonically equivalent keys, which a [String: JSONValue] cannot tell apart.
            #"{"é":1,"e\u0301":2}"#, #"{"e\u0301":1,"\u00e9":2}"#, #"{"K":1,"\u212A":2}"#, #"{"\u212A":1,"b":0,"K":2}"#,
        ]
        for text in invalid {
            #expect(throws: JSONParseError.self, "\(text)") { try transcoded(Array(text.utf8)).get() }
            expectSameCanonical(Array(text.utf8))
        }
        let invalidBytes: [[UInt8]] = [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xC0, 0xAF, 0x22],
                                       [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xE2, 0x82], [0xEF, 0xBB, 0xBF, 0x31], [0x31, 0x00]]
        for bytes in invalidBytes {
            #expect(throws: JSONParseError.self, "\(hex(bytes))") { try transcoded(bytes).get() }
            expectSameCanonical(bytes)
        }
    }

    @Test func errorMessagesNameTheProblem() {
        func message(_ text: String) -> String {
            if case .failure(let e) = transcoded(Array(text.utf8)) { return e.message }
            return "accepted"
        }
        #expect(message(#"{"b":1,"a":2,"b":3}"#) == #"duplicate key "b""#)
        #expect(message(#"{"é":1,"e\u0301":2}"#).hasPrefix("duplicate key"))
        #expect(message("01").contains("leading zeros"))
        #expect(message("[1,]").contains("expected a JSON value"))
        #expect(message("\"\\ud800\"").contains("surrogate"))
        #expect(message("1e999").contains("out of range"))
        #expect(message("[1] 2").contains("after the JSON value"))
    }

    @Test func limits() {
        let limits = JSONLimits(maxDepth: 4, maxStringBytes: 8, maxInputBytes: 64)
        let cases: [(String, Bool)] = [
            ("[[[[1]]]]", true), ("[[[[[1]]]]]", false), (#"{"a":{"b":{"c":{"d":1}}}}"#, true), (#"{"a":{"b":{"c":{"d":{}}}}}"#, false),
            (#""12345678""#, true), (#""123456789""#, false), (#""\u0031234567\n""#, true), (#""\u003123456789""#, false), (#""\u00e9\u00e9\u00e9\u00e9""#, true),
            (#""\u00e9\u00e9\u00e9\u00e9\u00e9""#, false), (#"{"12345678":1}"#, true), (#"{"123456789":1}"#, false), (#"{"\u00e9\u00e91234":1}"#, true),
            (#"{"\u00e9\u00e912345":1}"#, false), ("\"ééé€\"", false), ("\"éééé\"", true),
            (String(repeating: " ", count: 60) + "1234", true), (String(repeating: " ", count: 61) + "1234", false),
        ]
        for (text, valid) in cases {
            #expect(expectSameCanonical(Array(text.utf8), limits: limits) == valid, "\(text)")
        }
    }

    @Test func canonicalInputIsItsOwnCanonicalForm() throws {
        var gen = RandomJSONText(seed: 31)
        gen.duplicateRate = 0
        var checked = 0
        for _ in 0..<2_000 {
            guard case .success(let canonical) = treeCanonical(gen.document()) else { continue }
            #expect(try transcoded(canonical).get() == canonical)
            checked += 1
        }
        #expect(checked > 1_500)
    }

    /// Tens of thousands of random, valid-but-not-canonical texts: random key order, whitespace,
    /// escapes and number spellings.
    @Test func randomNonCanonicalTexts() {
        var gen = RandomJSONText(seed: 0xC0FFEE)
        var accepted = 0, rejected = 0
        for _ in 0..<25_000 {
            if expectSameCanonical(gen.document()) { accepted += 1 } else { rejected += 1 }
        }
        // Mostly valid texts; the rejected ones carry duplicate or equivalent keys, or overflow.
        #expect(accepted > 20_000)
        #expect(rejected > 200)
    }

    /// Hostile mutations of valid texts: both paths fail, or both succeed with the same bytes.
    @Test func hostileMutations() {
        var gen = RandomJSONText(seed: 77)
        gen.duplicateRate = 0
        var mutator = HostileMutator(seed: 0xBAD5EED, nesting: UInt8(ascii: "{"),
                                     tokens: ["1e999999", "-0", "1.0e-400", "123456789012345678901234567890", "true", "null",
                                              #""a":1,"#, #",""#, #"\u00e9"#, #""e\u0301":2,"#, "\u{212A}", "1E21", "\\/"])
        let small = JSONLimits(maxDepth: 16, maxStringBytes: 64, maxInputBytes: 2048)
        var accepted = 0, rejected = 0
        for round in 0..<15_000 {
            if round % 2 == 0 { mutator.nesting = [UInt8(ascii: "{"), UInt8(ascii: "[")][mutator.below(2)] }
            let valid = gen.document()
            let input = mutator.mutate(valid)
            for limits in [JSONLimits.default, small] {
                if expectSameCanonical(input, limits: limits) { accepted += 1 } else { rejected += 1 }
            }
        }
        #expect(accepted > 1_000)
        #expect(rejected > 10_000)
    }

    /// Truncating a valid text anywhere leaves the two paths in agreement.
    @Test func everyPrefix() {
        var gen = RandomJSONText(seed: 5)
        for _ in 0..<200 {
            let text = gen.document()
            for n in 0...text.count { expectSameCanonical(Array(text.prefix(n))) }
        }
    }

    @Test func arrayOverloadUsesTheTranscoder() throws {
        let input = Array(#"{"b":[1E2,"\u0041"],"a":-0}"#.utf8)
        #expect(try CanonicalJSON.canonicalize(input) == Array(#"{"a":0,"b":[100,"A"]}"#.utf8))
        #expect(throws: JSONParseError.self) { try CanonicalJSON.canonicalize(Array(#"{"a":1,"a":1}"#.utf8)) }
    }

    @Test func appendsToExistingOutput() throws {
        var out = Array("prefix:".utf8)
        try Array(#"{"b":1,"a":2}"#.utf8).withUnsafeBytes { try CanonicalJSON.canonicalize($0, into: &out) }
        try Array(#" [ 3 ] "#.utf8).withUnsafeBytes { try CanonicalJSON.canonicalize($0, into: &out) }
        #expect(String(decoding: out, as: UTF8.self) == #"prefix:{"a":2,"b":1}[3]"#)
    }

    /// Many members (the sort switches from insertion sort) and deep nesting.
    @Test func largeObjects() {
        var rng = SplitMix64(seed: 3)
        for n in [15, 16, 17, 40, 300] {
            var keys = (0..<n).map { "k\($0 * 7919 % 1000)-\(["é", "😀", "\u{E000}", "", "a"][$0 % 5])" }
            keys.shuffle(using: &rng)
            let text = "{" + keys.map { #""\#($0)":{"\#($0)":[\#($0.utf8.count)]}"# }.joined(separator: ",") + "}"
            #expect(expectSameCanonical(Array(text.utf8)))
            let duplicated = "{" + (keys + [keys[rng.below(n)]]).map { #""\#($0)":1"# }.joined(separator: ",") + "}"
            #expect(!expectSameCanonical(Array(duplicated.utf8)))
        }
        let deep = String(repeating: #"{"a":["#, count: 64) + "1" + String(repeating: "]}", count: 64)
        #expect(expectSameCanonical(Array(deep.utf8)))
        let tooDeep = String(repeating: #"{"a":["#, count: 65) + "1" + String(repeating: "]}", count: 65)
        #expect(!expectSameCanonical(Array(tooDeep.utf8)))
    }
}
