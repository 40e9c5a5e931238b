import AtlasTesting

/// Writes random JSON texts that are valid (mostly: see ``duplicateRate``) but far from
/// canonical: members in random order, random whitespace, random escapes, numbers in many
/// spellings, keys that sort differently in UTF-8 and UTF-16.
struct RandomJSONText {
    var rng: SplitMix64
    /// The chance, in percent, that an object repeats one of its keys (possibly spelled with
    /// escapes), which the parser rejects.
    var duplicateRate = 2
    var maxDepth = 4

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    /// Keys that exercise ordering: shared prefixes, the UTF-16 inversion (U+E000…U+FFFF
    /// against U+10000 and above), canonically equivalent pairs (`é` / `e` + U+0301, `K` /
    /// KELVIN SIGN U+212A), control characters and quotes.
    static let keyPool: [String] = [
        "", "a", "ab", "b", "id", "@odata.type", "displayName", "settings", "value", "key", "A", "_", "1", "10", "9",
        "é", "e\u{301}", "K", "\u{212A}", "\u{E000}", "\u{FB33}", "\u{FFFF}", "\u{FFFD}", "😀", "\u{10000}", "\u{10FFFF}",
        "\u{80}", "ö", "€", "\u{2028}", "\r", "\n", "\"", "\\", "/", "\u{0}", "\u{1F}", "\u{7F}", "a\u{0}b", "日本",
    ]

    static let scalarPool: [Unicode.Scalar] = [
        "a", "b", "z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{8}", "\u{C}", "\u{D}", "\u{1F}", "\u{7F}",
        "é", "€", "\u{2028}", "\u{E000}", "\u{FFFF}", "😀", "\u{10FFFF}", "\u{800}", "\u{7FF}", "ß",
    ]

    mutating func below(_ n: Int) -> Int { rng.below(n) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }

    /// One document: a value with optional whitespace around it.
    mutating func document() -> [UInt8] {
        var out: [UInt8] = []
        whitespace(&out)
        value(&out, depth: 0)
        whitespace(&out)
        return out
    }

    /// One document whose value is an object.
    mutating func objectDocument() -> [UInt8] {
        var out: [UInt8] = []
        whitespace(&out)
        object(&out, depth: 1)
        whitespace(&out)
        return out
    }

    mutating func whitespace(_ out: inout [UInt8]) {
        guard chance(30) else { return }
        for _ in 0...below(3) { out.append([0x20, 0x09, 0x0A, 0x0D][below(4)]) }
    }

    mutating func value(_ out: inout [UInt8], depth: Int) {
        switch below(depth >= maxDepth ? 6 : 9) {
        case 0: out += Array("null".utf8)
        case 1: out += Array((chance(50) ? "true" : "false").utf8)
        case 2, 3: number(&out)
        case 4, 5: string(randomString(), into: &out)
        case 6: array(&out, depth: depth + 1)
        default: object(&out, depth: depth + 1)
        }
    }

    mutating func array(_ out: inout [UInt8], depth: Int) {
        out.append(UInt8(ascii: "["))
        whitespace(&out)
        for i in 0..<below(5) {
            if i > 0 { out.append(UInt8(ascii: ",")); whitespace(&out) }
            value(&out, depth: depth)
            whitespace(&out)
        }
        out.append(UInt8(ascii: "]"))
    }

    mutating func object(_ out: inout [UInt8], depth: Int) {
        var keys: [String] = []
        for _ in 0..<below(7) {
            let key = chance(60) ? Self.keyPool[below(Self.keyPool.count)] : randomString()
            if !keys.contains(where: { $0.utf8.elementsEqual(key.utf8) }) { keys.append(key) }
        }
        if !keys.isEmpty && chance(duplicateRate) { keys.insert(keys[below(keys.count)], at: below(keys.count + 1)) }
        keys.shuffle(using: &rng)
        out.append(UInt8(ascii: "{"))
        whitespace(&out)
        for (i, key) in keys.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")); whitespace(&out) }
            string(key, into: &out)
            whitespace(&out)
            out.append(UInt8(ascii: ":"))
            whitespace(&out)
            value(&out, depth: depth)
            whitespace(&out)
        }
        out.append(UInt8(ascii: "}"))
    }

    mutating func randomString() -> String {
        var s = ""
        for _ in 0..<below(10) { s.unicodeScalars.append(Self.scalarPool[below(Self.scalarPool.count)]) }
        return s
    }

    /// Writes `s` as a JSON string literal, escaping what must be escaped and, at random, other
    /// characters too (`\/`, `\uXXXX` in either case, surrogate pairs).
    mutating func string(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for scalar in s.unicodeScalars {
            let v = scalar.value
            let short: [UInt32: String] = [0x22: "\\\"", 0x5C: "\\\\", 0x08: "\\b", 0x0C: "\\f", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"]
            if let e = short[v], v != 0x22 && v != 0x5C ? chance(50) : chance(80) {
                out += Array(e.utf8)
            } else if v < 0x20 || v == 0x22 || v == 0x5C || chance(15) {
                if v >= 0x10000 {
                    let u = v - 0x10000
                    unicodeEscape(0xD800 + (u >> 10), into: &out)
                    unicodeEscape(0xDC00 + (u & 0x3FF), into: &out)
                } else {
                    unicodeEscape(v, into: &out)
                }
            } else if v == 0x2F && chance(30) {
                out += Array("\\/".utf8)
            } else {
                out += Array(String(scalar).utf8)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    mutating func unicodeEscape(_ v: UInt32, into out: inout [UInt8]) {
        var hex = String(v, radix: 16, uppercase: chance(50))
        while hex.count < 4 { hex = "0" + hex }
        out += Array(("\\u" + hex).utf8)
    }

    /// A number in one of many spellings: short and long integers, `-0`, fractions, exponents
    /// with `e`/`E` and signs, values that overflow the fast paths or round to zero.
    mutating func number(_ out: inout [UInt8]) {
        func digits(_ n: Int, _ rng: inout SplitMix64) -> String {
            var s = String(1 + rng.below(9))
            for _ in 1..<max(n, 1) { s += String(rng.below(10)) }
            return s
        }
        let sign = chance(30) ? "-" : ""
        let text: String
        switch below(12) {
        case 0: text = sign + "0"
        case 1, 2: text = sign + digits(1 + below(15), &rng)
        case 3: text = sign + digits(16 + below(10), &rng)
        case 4: text = sign + digits(1 + below(4), &rng) + "." + String(below(1000))
        case 5: text = sign + "0." + String(repeating: "0", count: below(8)) + digits(1 + below(5), &rng)
        case 6: text = sign + digits(1 + below(3), &rng) + (chance(50) ? "e" : "E") + ["", "+", "-"][below(3)] + String(below(30))
        case 7: text = sign + ["1e21", "1e20", "1E-7", "1e-6", "0.1", "4.50", "2e-3", "5e-324", "1.7976931348623157e308", "1e-400", "0e0", "0.0"][below(12)]
        case 8: text = sign + "123456789012345678"
        case 9: text = sign + "9007199254740993"
        case 10: text = sign + digits(1 + below(20), &rng) + "." + digits(1 + below(20), &rng) + "e" + ["", "-", "+"][below(3)] + String(below(300))
        default: text = sign + "999999999999999"
        }
        out += Array(text.utf8)
    }
}
