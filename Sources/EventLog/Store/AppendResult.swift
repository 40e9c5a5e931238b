/// The outcome of one appended batch.
public struct AppendResult: Sendable, Hashable {
    /// The position of each event, in batch order; for an id already in the log, its original
    /// position.
    public var positions: [UInt64]
    /// How many events were newly written (0 for a fully retried batch).
    public var written: Int
    /// The head after the commit that carried the batch.
    public var head: LogHead
    /// The counters projections kept while applying this batch's events (see
    /// ``KeyValueWriter/tally(_:_:)``), by name.
    public var tallies: [String: Int] = [:]
}
