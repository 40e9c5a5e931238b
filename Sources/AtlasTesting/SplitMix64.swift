/// A small deterministic PRNG (SplitMix64): the same seed gives the same values on every run,
/// so seeded tests, benchmarks and simulator seeds are reproducible.
package struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The generator's state; each ``next()`` advances it by the golden-ratio increment.
    package var state: UInt64

    /// A generator starting at `seed`.
    package init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<n` (0 when `n <= 1`).
    package mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
}
