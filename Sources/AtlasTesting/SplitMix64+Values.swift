extension SplitMix64 {
    /// A random version-4 GUID in lowercase, e.g. `0f8fad5b-d9cb-469f-a165-70867728950e`.
    package mutating func guid() -> String {
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
    package mutating func hex(_ count: Int) -> String {
        var s = ""
        while s.count < count { s += String(next(), radix: 16) }
        return String(s.prefix(count))
    }

    /// `count` random letters and digits (`A–Z`, `a–z`, `0–9`).
    package mutating func alphanumeric(_ count: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<count).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] })
    }

    /// A random element of a non-empty array.
    package mutating func pick<T>(_ options: [T]) -> T { options[Int(next() % UInt64(options.count))] }

    /// A random integer in `range`.
    package mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// A random Boolean.
    package mutating func bool() -> Bool { next() & 1 == 1 }
}
