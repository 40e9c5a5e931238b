import AtlasTesting
import Testing
@testable import CanonicalJSON

func canonicalText(_ v: JSONValue) throws -> String {
    String(decoding: try CanonicalJSON.serialize(v), as: UTF8.self)
}

func canonicalText(json: String) throws -> String {
    String(decoding: try CanonicalJSON.canonicalize(Array(json.utf8)), as: UTF8.self)
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

@Suite struct StringEscapingTests {
    @Test func shortEscapes() throws {
        #expect(try canonicalText(.string("\"")) == #""\"""#)
        #expect(try canonicalText(.string("\\")) == #""\\""#)
        #expect(try canonicalText(.string("\u{08}\u{0C}\n\r\t")) == #""\b\f\n\r\t""#)
    }

    @Test func everyControlCharacter() throws {
        let short: [UInt8: String] = [0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"]
        for c in UInt8(0)..<0x20 {
            let s = String(Character(Unicode.Scalar(c)))
            let hexDigits = String(c, radix: 16)  // lowercase
            let expected = short[c] ?? ("\\u00" + (c < 16 ? "0" : "") + hexDigits)
            #expect(try canonicalText(.string(s)) == "\"\(expected)\"", "U+\(hexDigits)")
        }
        #expect(try canonicalText(.string("\u{1F}")) == #""\u001f""#)
        #expect(try canonicalText(.string("\u{0}")) == #""\u0000""#)
    }

    @Test func literalCharacters() throws {
        // DEL, '/', non-ASCII, U+2028/2029, astral characters: all literal UTF-8.
        let s = "a/b\u{7F}é€\u{2028}\u{2029}😀\u{FEFF}"
        let out = try CanonicalJSON.serialize(.string(s))
        #expect(out == [0x22] + Array(s.utf8) + [0x22])
    }

    @Test func mixedRuns() throws {
        #expect(try canonicalText(.string("abc\"def\\ghi\njkl")) == #""abc\"def\\ghi\njkl""#)
        #expect(try canonicalText(.string("")) == #""""#)
        let long = String(repeating: "x", count: 1000) + "\t" + String(repeating: "é", count: 100)
        #expect(try canonicalText(.string(long)) == "\"" + String(repeating: "x", count: 1000) + "\\t" + String(repeating: "é", count: 100) + "\"")
    }

    @Test func writeStringHelper() {
        var out: [UInt8] = Array("k=".utf8)
        CanonicalJSON.writeString("a\"b", into: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"k="a\"b""#)
    }

    @Test func nonContiguousStringsAreHandled() throws {
        // A Substring-derived string and a bridged-like lazily built string still serialize.
        let s = String("xx\u{1}é😀yy".dropFirst())
        #expect(try canonicalText(.string(s)) == "\"x\\u0001é😀yy\"")
    }
}

@Suite struct KeyOrderTests {
    /// RFC 8785 §3.2.3 sorting example.
    @Test func rfc8785SortingExample() throws {
        let input = """
        {
          "\\u20ac": "Euro Sign",
          "\\r": "Carriage Return",
          "\\ufb33": "Hebrew Letter Dalet With Dagesh",
          "1": "One",
          "\\ud83d\\ude00": "Emoji: Grinning Face",
          "\\u0080": "Control",
          "\\u00f6": "Latin Small Letter O With Diaeresis"
        }
        """
        let out = try CanonicalJSON.canonicalize(Array(input.utf8))
        let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\"דּ\":\"Hebrew Letter Dalet With Dagesh\"}"
        #expect(String(decoding: out, as: UTF8.self) == expected)
        #expect(hex(out) == "7b225c72223a2243617272696167652052657475726e222c2231223a224f6e65222c22c280223a22436f6e74726f6c222c22c3b6223a224c6174696e20536d616c6c204c6574746572204f205769746820446961657265736973222c22e282ac223a224575726f205369676e222c22f09f9880223a22456d6f6a693a204772696e6e696e672046616365222c22efacb3223a22486562726577204c65747465722044616c6574205769746820446167657368227d")
    }

    /// U+E000…U+FFFF sort after U+10000… in UTF-16 order, though before them in scalar order.
    @Test func utf16NotScalarOrder() throws {
        let v: JSONValue = ["\u{FFFD}": 1, "\u{10000}": 2, "\u{E000}": 3, "\u{D7FF}": 4, "\u{1F600}": 5, "z": 6]
        #expect(try canonicalText(v) == "{\"z\":6,\"\u{D7FF}\":4,\"\u{10000}\":2,\"\u{1F600}\":5,\"\u{E000}\":3,\"\u{FFFD}\":1}")
        #expect(CanonicalJSON.utf16Precedes("\u{10FFFF}", "\u{E000}"))
        #expect(!CanonicalJSON.utf16Precedes("\u{E000}", "\u{10FFFF}"))
        // Scalar (and UTF-8) order says the opposite:
        #expect("\u{E000}".unicodeScalars.first!.value < "\u{10FFFF}".unicodeScalars.first!.value)
    }

    @Test func prefixesAndEqualKeys() {
        #expect(CanonicalJSON.utf16Precedes("a", "ab"))
        #expect(!CanonicalJSON.utf16Precedes("ab", "a"))
        #expect(!CanonicalJSON.utf16Precedes("a", "a"))
        #expect(CanonicalJSON.utf16Precedes("", "a"))
        #expect(CanonicalJSON.utf16Precedes("B", "a"))  // case-sensitive, code-unit order
    }

    /// Not Swift's `String <`, which compares canonically equivalent forms as equal.
    @Test func noUnicodeNormalization() throws {
        let composed = "\u{E9}", decomposed = "e\u{301}"
        #expect(composed == decomposed)  // Swift String equality is canonical equivalence…
        let v: JSONValue = .object(["x": 1])
        _ = v
        #expect(CanonicalJSON.utf16Precedes(decomposed, composed))  // …but JCS compares code units.
        var o: [String: JSONValue] = [:]
        o["a"] = 1
        o[decomposed] = 2
        #expect(try canonicalText(.object(o)) == "{\"a\":1,\"e\u{301}\":2}")
    }

    /// `utf16Precedes` agrees with lexicographic comparison of `String.utf16` on random strings.
    @Test func matchesReferenceOrder() {
        var rng = SplitMix64(seed: 42)
        let pool: [Unicode.Scalar] = [
            "a", "b", "Z", "0", "\u{7F}", "\u{80}", "\u{FF}", "\u{7FF}", "\u{800}", "\u{D7FF}", "\u{E000}",
            "\u{F8FF}", "\u{FB33}", "\u{FFFD}", "\u{FFFF}", "\u{10000}", "\u{1F600}", "\u{1F602}", "\u{10FFFF}",
        ]
        func randomString() -> String {
            var s = ""
            for _ in 0..<Int(rng.next() % 4) { s.unicodeScalars.append(pool[Int(rng.next() % UInt64(pool.count))]) }
            return s
        }
        for _ in 0..<20_000 {
            let a = randomString(), b = randomString()
            let reference = Array(a.utf16).lexicographicallyPrecedes(Array(b.utf16))
            #expect(CanonicalJSON.utf16Precedes(a, b) == reference, "\(Array(a.unicodeScalars)) vs \(Array(b.unicodeScalars))")
        }
    }
}

@Suite struct LargeObjectTests {
    /// Objects of every size (both the insertion-sort and the general sort path) come out in
    /// UTF-16 order.
    @Test func membersSortedAtEverySize() throws {
        var rng = SplitMix64(seed: 2024)
        let pool: [Unicode.Scalar] = ["a", "b", "B", "0", "_", "\u{80}", "é", "\u{FFFD}", "\u{E000}", "😀", "\u{10000}", "\n"]
        for size in [2, 3, 15, 16, 17, 40, 200] {
            var o: [String: JSONValue] = [:]
            while o.count < size {
                var k = ""
                for _ in 0..<(1 + Int(rng.next() % 5)) { k.unicodeScalars.append(pool[Int(rng.next() % UInt64(pool.count))]) }
                o[k] = .number(Double(o.count))
            }
            let expectedKeys = o.keys.sorted { Array($0.utf16).lexicographicallyPrecedes(Array($1.utf16)) }
            var expected: [UInt8] = [UInt8(ascii: "{")]
            for (i, k) in expectedKeys.enumerated() {
                if i > 0 { expected.append(UInt8(ascii: ",")) }
                CanonicalJSON.writeString(k, into: &expected)
                expected.append(UInt8(ascii: ":"))
                try CanonicalJSON.writeNumber(o[k]!.doubleValue!, into: &expected)
            }
            expected.append(UInt8(ascii: "}"))
            #expect(try CanonicalJSON.serialize(.object(o)) == expected, "size \(size)")
        }
    }
}

@Suite struct StructureTests {
    /// RFC 8785 §3.2.2 example.
    @Test func rfc8785StructuredExample() throws {
        let input = #"""
        {
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }
        """#
        let expected = #"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        #expect(try canonicalText(json: input) == expected)
    }

    /// cyberphone/json-canonicalization test data ("weird.json").
    @Test func weirdKeys() throws {
        let input = #"""
        {
          "\u20ac": "Euro Sign",
          "1": "One",
          "\u0080": "Control\u007f",
          "\ud83d\ude02": "Smiley",
          "\u00f6": "Latin Small Letter O With Diaeresis",
          "\ufb33": "Hebrew Letter Dalet With Dagesh",
          "</script>": "Browser Challenge"
        }
        """#
        let expected = "{\"1\":\"One\",\"</script>\":\"Browser Challenge\",\"\u{80}\":\"Control\u{7F}\",\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\"😂\":\"Smiley\",\"דּ\":\"Hebrew Letter Dalet With Dagesh\"}"
        #expect(try canonicalText(json: input) == expected)
    }

    @Test func nestedStructures() throws {
        let v: JSONValue = [
            "b": [1, "two", nil, true, false, [], [:], ["z": 1, "a": [2.5, -0.0]]],
            "a": ["y": ["x": nil]],
            "": 0,
        ]
        #expect(try canonicalText(v) == #"{"":0,"a":{"y":{"x":null}},"b":[1,"two",null,true,false,[],{},{"a":[2.5,0],"z":1}]}"#)
        #expect(try canonicalText([]) == "[]")
        #expect(try canonicalText([:]) == "{}")
        #expect(try canonicalText(nil) == "null")
        #expect(try canonicalText(true) == "true")
        #expect(try CanonicalJSON.serializeToString(["k": "v"]) == #"{"k":"v"}"#)
    }

    @Test func descriptionIsCanonical() {
        let v: JSONValue = ["b": 1e21, "a": ["\n", 0.5]]
        #expect(v.description == #"{"a":["\n",0.5],"b":1e+21}"#)
        #expect("\(v)" == #"{"a":["\n",0.5],"b":1e+21}"#)
        // Non-finite numbers have no JSON form; description still says something useful.
        #expect(JSONValue.array([.number(.nan), .number(-.infinity)]).description == "[NaN,-Infinity]")
    }

    /// The same object built in different insertion orders serializes to the same bytes.
    @Test func orderIndependence() throws {
        let keys = ["type", "seq", "data", "ts", "\u{E9}t\u{E9}", "😀", "\u{FFFD}", "a", "A", "_", "id", "v"]
        var reference: [UInt8]?
        var rng = SplitMix64(seed: 7)
        for _ in 0..<50 {
            var order = keys
            order.shuffle(using: &rng)
            var o: [String: JSONValue] = Dictionary(minimumCapacity: Int(rng.next() % 64))
            for k in order { o[k] = .string(k + "!") }
            var inner: [String: JSONValue] = [:]
            for k in order.reversed() { inner[k] = .number(Double(k.utf8.count)) }
            o["data"] = .object(inner)
            let bytes = try CanonicalJSON.serialize(.object(o))
            if let reference { #expect(bytes == reference) } else { reference = bytes }
            // Parsing input text written in this order canonicalizes to the same bytes.
            var text = "{"
            for (i, k) in order.enumerated() {
                if i > 0 { text += " , " }
                var key: [UInt8] = []
                CanonicalJSON.writeString(k, into: &key)
                text += String(decoding: key, as: UTF8.self) + ":"
                text += k == "data" ? String(describing: JSONValue.object(inner)) : String(describing: JSONValue.string(k + "!"))
            }
            text += "}"
            #expect(try CanonicalJSON.canonicalize(Array(text.utf8)) == reference)
        }
    }

    @Test func roundTrips() throws {
        let parser = JSONParser()
        let samples = [
            #"{"v":1,"seq":42,"type":"device.upserted","ts":"2024-05-01T12:34:56.789Z","data":{"id":"x","n":[1,2.5,-3e-9],"ok":true,"none":null}}"#,
            #"[[[[]]],{},"",0,-0.5,1e+300,"\u0000\u001f\"\\/"]"#,
            "\"\u{10FFFF}\u{E000}\u{7FF}\"",
        ]
        for s in samples {
            let v = try parser.parse(s)
            let canonical = try CanonicalJSON.serialize(v)
            #expect(try parser.parse(canonical) == v)
            #expect(try CanonicalJSON.canonicalize(canonical) == canonical)  // idempotent
        }
    }
}
