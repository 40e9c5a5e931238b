import AtlasTesting
import Testing
@testable import CanonicalJSON

/// The members `JSONObjectScanner` finds in `text`, as (raw key, raw value) strings.
func scannedMembers(_ text: String) -> [(key: String, value: String)] {
    Array(text.utf8).withUnsafeBytes { bytes in
        var scanner = JSONObjectScanner(bytes)
        var members: [(key: String, value: String)] = []
        while let m = scanner.next() {
            members.append((String(decoding: bytes[m.key], as: UTF8.self), String(decoding: bytes[m.value], as: UTF8.self)))
        }
        return members
    }
}

@Suite struct JSONObjectScannerTests {
    @Test func canonicalText() {
        let text = #"{"a":1,"b":"x\"y}","c":{"d":[1,2,{"e":"]}"}]},"d":[],"e":null,"f":true,"g":-1.5e+21,"h":"\\","i":{}}"#
        let members = scannedMembers(text)
        #expect(members.map(\.key) == ["a", "b", "c", "d", "e", "f", "g", "h", "i"])
        #expect(members.map(\.value) == ["1", #""x\"y}""#, #"{"d":[1,2,{"e":"]}"}]}"#, "[]", "null", "true", "-1.5e+21", #""\\""#, "{}"])
    }

    @Test func nonCanonicalText() {
        let text = " \n{ \"k\\u00e9y\" :\t\"v\\n\" , \"n\" : [ 1 , 2 ] ,\r\n\"o\" : { \"p\" : { } } , \"\" : \"\" } "
        let members = scannedMembers(text)
        #expect(members.map(\.key) == [#"k\u00e9y"#, "n", "o", ""])
        #expect(members.map(\.value) == [#""v\n""#, "[ 1 , 2 ]", #"{ "p" : { } }"#, #""""#])
        #expect(scannedMembers("{}").isEmpty)
        #expect(scannedMembers(" { } ").isEmpty)
        #expect(scannedMembers("[1,2]").isEmpty)
        #expect(scannedMembers("").isEmpty)
    }

    /// On random valid objects, written canonically or not, the scanner finds exactly the
    /// parser's members: decoded keys and values that parse to the same values.
    @Test func agreesWithTheParser() throws {
        var gen = RandomJSONText(seed: 2024)
        gen.duplicateRate = 0
        var checked = 0
        for round in 0..<4_000 {
            var text = gen.objectDocument()
            guard case .object(let expected)? = try? JSONParser().parse(text) else { continue }
            if round % 2 == 0 { text = try CanonicalJSON.serialize(.object(expected)) }
            var seen = 0
            try text.withUnsafeBytes { bytes in
                var scanner = JSONObjectScanner(bytes)
                while let m = scanner.next() {
                    seen += 1
                    let key = JSONObjectScanner.string(bytes, m.key)
                    let value = try JSONParser().parse(UnsafeRawBufferPointer(rebasing: bytes[m.value]))
                    #expect(expected[key] == value, "\(String(decoding: text, as: UTF8.self)): \(key)")
                    #expect(JSONObjectScanner.keyEquals(bytes, m.key, Array(key.utf8)))
                    #expect(!JSONObjectScanner.keyEquals(bytes, m.key, Array((key + "x").utf8)))
                    #expect(JSONObjectScanner.skipValue(bytes, from: m.value.lowerBound) == m.value.upperBound)
                    if case .string(let s) = value {
                        #expect(Array(JSONObjectScanner.string(bytes, m.value).utf8) == Array(s.utf8))
                    }
                }
            }
            #expect(seen == expected.count, "\(String(decoding: text, as: UTF8.self))")
            checked += 1
        }
        #expect(checked > 3_000)
    }

    @Test func skipValue() {
        let text = #"{"s":"a\"b\\" ,"n":-12.5e3,"t":true,"o":{"x":[{},"]"]},"a":[[],"}"]}"#
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { b in
            func skipped(from marker: String) -> String {
                let start = bytes.indices.first { bytes[$0...].starts(with: marker.utf8) }! + marker.utf8.count
                return String(decoding: bytes[start..<JSONObjectScanner.skipValue(b, from: start)], as: UTF8.self)
            }
            #expect(skipped(from: #""s":"#) == #""a\"b\\""#)
            #expect(skipped(from: #""n":"#) == "-12.5e3")
            #expect(skipped(from: #""t":"#) == "true")
            #expect(skipped(from: #""o":"#) == #"{"x":[{},"]"]}"#)
            #expect(skipped(from: #""a":"#) == #"[[],"}"]"#)
            #expect(JSONObjectScanner.skipValue(b, from: 0) == bytes.count)
            // No complete value: the start comes back.
            #expect(JSONObjectScanner.skipValue(b, from: 5) == 5 + #""a\"b\\""#.utf8.count)
            #expect(JSONObjectScanner.skipValue(b, from: 4) == 4)  // ':'
            #expect(JSONObjectScanner.skipValue(b, from: 13) == 13)  // a space

            #expect(JSONObjectScanner.skipValue(b, from: bytes.count) == bytes.count)
            #expect(JSONObjectScanner.skipValue(b, from: -3) == -3)
            #expect(JSONObjectScanner.skipValue(b, from: bytes.count - 1) == bytes.count - 1)  // '}'
        }
        for unterminated in [#""abc"#, #""abc\""#, #"{"a":[1,2]"#, "[[]", #"["]"#, "{"] {
            Array(unterminated.utf8).withUnsafeBytes { #expect(JSONObjectScanner.skipValue($0, from: 0) == 0, "\(unterminated)") }
        }
    }

    @Test func stringDecoding() {
        func decoded(_ literal: String, dropQuotes: Bool = false) -> String {
            Array(literal.utf8).withUnsafeBytes { b in
                JSONObjectScanner.string(b, dropQuotes ? 1..<(b.count - 1) : 0..<b.count)
            }
        }
        #expect(decoded(#""plain""#) == "plain")
        #expect(decoded(#""plain""#, dropQuotes: true) == "plain")
        #expect(decoded(#""\"\\\/\b\f\n\r\t""#) == "\"\\/\u{8}\u{C}\n\r\t")
        #expect(decoded(#""\u00e9\u20AC\ud83d\ude00x""#, dropQuotes: true) == "é€😀x")
        #expect(decoded("\"é€😀\"") == "é€😀")
        #expect(decoded(#""\u0000""#) == "\u{0}")
        // Malformed escapes become U+FFFD; nothing traps.
        #expect(decoded(#""\ud800x""#) == "\u{FFFD}x")
        #expect(decoded(#""\udc00""#) == "\u{FFFD}")
        #expect(decoded(#""\ud800\u0041""#) == "\u{FFFD}A")
        #expect(decoded(#""\q""#) == "\u{FFFD}")
        #expect(decoded(#""\u12""#) == "\u{FFFD}12")
        #expect(decoded(#""ab\"#) == "ab\u{FFFD}")
        Array(#""abc""#.utf8).withUnsafeBytes { b in
            #expect(JSONObjectScanner.string(b, -5..<100) == "abc")
            #expect(JSONObjectScanner.string(b, 50..<100) == "")
            #expect(JSONObjectScanner.string(b, 2..<3) == "b")
        }
    }

    @Test func keyEquality() {
        let text = #"{"id":1,"\u0069d":2,"i\"d":3,"":4,"idx":5,"é":6}"#
        Array(text.utf8).withUnsafeBytes { b in
            var scanner = JSONObjectScanner(b)
            var keys: [Range<Int>] = []
            while let m = scanner.next() { keys.append(m.key) }
            #expect(keys.count == 6)
            #expect(JSONObjectScanner.keyEquals(b, keys[0], "id"))
            #expect(JSONObjectScanner.keyEquals(b, keys[1], "id"))
            #expect(JSONObjectScanner.keyEquals(b, keys[2], "i\"d"))
            #expect(!JSONObjectScanner.keyEquals(b, keys[2], "id"))
            #expect(JSONObjectScanner.keyEquals(b, keys[3], ""))
            #expect(!JSONObjectScanner.keyEquals(b, keys[3], "id"))
            #expect(!JSONObjectScanner.keyEquals(b, keys[4], "id"))
            #expect(!JSONObjectScanner.keyEquals(b, keys[0], "idx"))
            #expect(JSONObjectScanner.keyEquals(b, keys[5], "é"))
            #expect(JSONObjectScanner.keyEquals(b, keys[5], Array("é".utf8)))
            #expect(!JSONObjectScanner.keyEquals(b, keys[5], "e\u{301}"))  // bytes, not canonical equivalence
            #expect(!JSONObjectScanner.keyEquals(b, 1000..<1002, "id"))
        }
    }

    /// Truncated, mutated and random inputs: no trap, every range inside the buffer, progress.
    @Test func malformedInputNeverEscapesTheBuffer() {
        var gen = RandomJSONText(seed: 404)
        var mutator = HostileMutator(seed: 8, nesting: UInt8(ascii: "{"), tokens: [#""k":"#, #"\""#, "\\", ",", "}", "]", #"{"a":"#])
        var rng = SplitMix64(seed: 9)
        var inputs: [[UInt8]] = []
        for round in 0..<3_000 {
            let valid = gen.objectDocument()
            switch round % 3 {
            case 0: inputs.append(Array(valid.prefix(rng.below(valid.count + 1))))
            case 1: inputs.append(mutator.mutate(valid))
            default:
                let alphabet = Array(#"{}[]":,\ ab1"#.utf8) + [0xFF, 0x00]
                inputs.append((0..<rng.below(64)).map { _ in alphabet[rng.below(alphabet.count)] })
            }
        }
        var members = 0
        for input in inputs {
            input.withUnsafeBytes { b in
                var scanner = JSONObjectScanner(b)
                var previousEnd = 0
                while let m = scanner.next() {
                    members += 1
                    #expect(m.key.lowerBound >= 1 && m.key.upperBound < b.count && m.key.upperBound < m.value.lowerBound)
                    #expect(m.value.lowerBound >= previousEnd && m.value.upperBound <= b.count && !m.value.isEmpty)
                    previousEnd = m.value.upperBound
                    _ = JSONObjectScanner.string(b, m.key)
                    _ = JSONObjectScanner.string(b, m.value)
                    _ = JSONObjectScanner.keyEquals(b, m.key, "id")
                }
                #expect(scanner.next() == nil)
                for from in stride(from: 0, through: b.count, by: max(1, b.count / 16)) {
                    let end = JSONObjectScanner.skipValue(b, from: from)
                    #expect(end >= from && end <= b.count)
                    _ = JSONObjectScanner.string(b, from..<(from + rng.below(20)))
                }
            }
        }
        #expect(members > 2_000)
    }
}
