import Crypto
package import EventLog

/// A log's hash chain recomputed with swift-crypto, independently of `ChainHash`: what a test
/// compares a store's chain and head with.
///
/// Format 2 chains each event's SHA-256 (`sha256(previous ‖ position as 8 bytes big-endian ‖
/// sha256(envelope))`), format 1 the envelope itself; the chain before position 1 is 32 zero
/// bytes.
///
/// ```swift
/// switch IndependentChain.recompute(events) {
/// case .success(let head): #expect(head == store.head().chainHash.bytes)
/// case .failure(let problem): Issue.record("\(problem)")
/// }
/// ```
package enum IndependentChain {
    /// The first place the events do not chain: a gap, or a stored hash that differs.
    package struct Problem: Error, CustomStringConvertible {
        package var position: UInt64
        package var description: String
        /// The hash recomputed up to the problem.
        package var computed: [UInt8]
    }

    /// Recomputes the chain over `events`, which must be positions 1...N in order; returns the
    /// head hash, or the first problem.
    package static func recompute(_ events: [RawEvent], format: Int = 2) -> Result<[UInt8], Problem> {
        var previous = [UInt8](repeating: 0, count: 32)
        for (i, e) in events.enumerated() {
            guard e.position == UInt64(i + 1) else {
                return .failure(Problem(position: e.position, description: "gap before position \(e.position)", computed: previous))
            }
            var hasher = SHA256()
            hasher.update(data: previous)
            hasher.update(data: withUnsafeBytes(of: e.position.bigEndian) { Array($0) })
            if format >= 2 { hasher.update(data: Array(SHA256.hash(data: e.json))) } else { hasher.update(data: e.json) }
            let computed = Array(hasher.finalize())
            guard computed == e.chainHash.bytes else {
                return .failure(Problem(position: e.position, description: "chain mismatch at position \(e.position)", computed: computed))
            }
            previous = computed
        }
        return .success(previous)
    }
}
