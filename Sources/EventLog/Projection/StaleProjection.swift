/// A projection whose tables do not answer for the whole log, so a reader that must not write
/// cannot use them (see ``LMDBEventStore/staleProjections()``).
package struct StaleProjection: Sendable, Hashable, CustomStringConvertible {
    /// Why the projection's tables cannot be used as they are.
    package enum Reason: Sendable, Hashable {
        /// The store has no record of the projection (it was never built there).
        case missing
        /// The store's tables were built by another version of the projection.
        case otherVersion(stored: Int, expected: Int)
        /// The projection has applied the log only up to `checkpoint`; the log ends at `head`.
        case behind(checkpoint: UInt64, head: UInt64)
    }

    /// The projection's name.
    package var name: String
    /// Why it is stale.
    package var reason: Reason

    package init(name: String, reason: Reason) {
        self.name = name
        self.reason = reason
    }

    package var description: String {
        switch reason {
        case .missing: return "projection \(name) has not been built"
        case .otherVersion(let stored, let expected):
            return "projection \(name) was built at version \(stored), this build reads version \(expected)"
        case .behind(let checkpoint, let head):
            return "projection \(name) has applied the log up to position \(checkpoint), the log ends at \(head)"
        }
    }
}
