/// A deterministic, seeded mutator of byte strings for property tests over hostile input.
package struct HostileMutator: Sendable {
    private var rng: SplitMix64
    /// The byte repeated to make deep nesting (`[` or `{`).
    package var nesting: UInt8
    /// Tokens inserted whole (numbers at the edges of a double, literals, keys).
    package var tokens: [String]

    package init(seed: UInt64, nesting: UInt8 = UInt8(ascii: "["),
                tokens: [String] = ["1e999999", "-0", "1.0e-400", "123456789012345678901234567890", "true", "null"]) {
        rng = SplitMix64(seed: seed)
        self.nesting = nesting
        self.tokens = tokens
    }

    package mutating func next() -> UInt64 { rng.next() }

    package mutating func below(_ n: Int) -> Int { rng.below(n) }

    /// Applies 1–4 random mutations: byte flips, truncation, insertion of NUL, invalid UTF-8,
    /// structural characters, long strings or deep nesting, duplication of a slice, tokens;
    /// with `allowHuge`, also 1–2 MiB runs.
    package mutating func mutate(_ input: [UInt8], allowHuge: Bool = false) -> [UInt8] {
        var b = input
        for _ in 0...below(4) {
            let at = below(b.count + 1)
            switch below(allowHuge ? 10 : 9) {
            case 0 where !b.isEmpty: b[min(at, b.count - 1)] ^= UInt8(truncatingIfNeeded: 1 << below(8))
            case 1: b = Array(b.prefix(at))
            case 2: b.insert(0, at: at)
            case 3: b.insert(contentsOf: [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF]][below(5)], at: at)
            case 4: b.insert(contentsOf: Array(#"{}[]",:\"#.utf8)[below(9)...].prefix(1 + below(3)), at: at)
            case 5: b.insert(contentsOf: Array(repeating: nesting, count: 1 + below(2000)), at: at)
            case 6: b.insert(contentsOf: Array(#"\ud800\u0000\uDFFF\u"#.utf8).prefix(2 + below(20)), at: at)
            case 7 where !b.isEmpty:
                let s = below(b.count), e = min(b.count, s + below(64))
                b.insert(contentsOf: b[s..<e], at: at)
            case 8: b.insert(contentsOf: Array(tokens[below(tokens.count)].utf8), at: at)
            case 9: b.insert(contentsOf: Array(repeating: UInt8(ascii: "a"), count: 1 << 20 + below(1 << 20)), at: at)
            default: b.reverse()
            }
        }
        return b
    }
}
