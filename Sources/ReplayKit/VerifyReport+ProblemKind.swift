extension VerifyReport.Problem {
    /// What a ``VerifyReport/Problem`` is about; the raw value is the `kind` of the JSON and
    /// text reports.
    package enum Kind: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
        /// A position is missing, or the log ends before its head.
        case gap
        /// The `events` table's keys are out of order or repeated.
        case order
        /// An `events` key is not an 8-byte position.
        case key
        /// An event is shorter than its chain hash.
        case length
        /// A stored chain hash differs from the recomputed one.
        case chain
        /// An envelope cannot be decoded.
        case decode
        /// An envelope is not valid or not in canonical form.
        case canonical
        /// Replaying events into the scratch store failed.
        case replay
        /// The tenant index disagrees with the log.
        case tenantIndex = "tenant_index"
        /// The event id index disagrees with the log.
        case eventIDs = "event_ids"
        /// The log is shorter than its projections.
        case truncation
        /// A projection differs from its rebuild.
        case projection

        /// Whether the problem is in the log or its indexes (every kind but ``projection``).
        package var isLogProblem: Bool { self != .projection }

        package var description: String { rawValue }
    }
}
