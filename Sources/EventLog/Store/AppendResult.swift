/// The outcome of one appended batch.
package struct AppendResult: Sendable, Hashable {
    /// The position of each event, in batch order; for an id already in the log, its original
    /// position.
    package var positions: [UInt64]
    /// How many events were newly written (0 for a fully retried batch).
    package var written: Int
    /// The head after the commit that carried the batch.
    package var head: LogHead
    /// The counters projections kept while applying this batch's events (see
    /// ``KeyValueWriter/tally(_:_:)``), by name.
    package var tallies: [String: Int] = [:]

    package init(positions: [UInt64], written: Int, head: LogHead, tallies: [String: Int] = [:]) {
        self.positions = positions
        self.written = written
        self.head = head
        self.tallies = tallies
    }
}
