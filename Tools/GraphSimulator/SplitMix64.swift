/// A small deterministic random number generator (SplitMix64) for seed generation.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// A generator derived from `seed` and the given labels, so each tenant and collection
    /// gets an independent, stable stream.
    init(seed: UInt64, labels: [String]) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for label in labels {
            for byte in label.utf8 {
                h ^= UInt64(byte)
                h &*= 0x0000_0100_0000_01b3
            }
            h ^= 0xff
            h &*= 0x0000_0100_0000_01b3
        }
        self.init(seed: seed ^ h)
        _ = next()
    }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// A random version-4 GUID in lowercase, e.g. `0f8fad5b-d9cb-469f-a165-70867728950e`.
    mutating func guid() -> String {
        var bytes = [UInt8]()
        for _ in 0..<2 {
            var v = next()
            for _ in 0..<8 {
                bytes.append(UInt8(truncatingIfNeeded: v))
                v >>= 8
            }
        }
        bytes[6] = (bytes[6] & 0x0f) | 0x40
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        let hex = bytes.map { b in
            let s = String(b, radix: 16)
            return s.count == 1 ? "0" + s : s
        }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(separator: "-")
    }

    /// `count` random lowercase hex digits.
    mutating func hex(_ count: Int) -> String {
        var s = ""
        while s.count < count { s += String(next(), radix: 16) }
        return String(s.prefix(count))
    }

    /// `count` random letters and digits (`A–Z`, `a–z`, `0–9`).
    mutating func alphanumeric(_ count: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<count).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] })
    }

    /// A random element of a non-empty array.
    mutating func pick<T>(_ options: [T]) -> T { options[Int(next() % UInt64(options.count))] }

    /// A random integer in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// A random Boolean.
    mutating func bool() -> Bool { next() & 1 == 1 }
}
