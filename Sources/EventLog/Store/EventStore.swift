import CanonicalJSON

/// The append-only, hash-chained event log with its projections: the API every backend offers.
///
/// Nothing here names a storage engine; the embedded default is ``LMDBEventStore``.
package protocol EventStore: AnyObject, Sendable {
    /// Appends `events` atomically, after `precondition` (if any) has run in the same
    /// transaction and returned without throwing. Projections are applied in that transaction.
    ///
    /// Concurrent appends are grouped into one commit. Events whose id is already in the log
    /// are not written again; their original positions are returned.
    @discardableResult
    func append(
        encoded events: [EncodedEvent],
        precondition: (@Sendable (any KeyValueWriter) throws -> Void)?
    ) async throws -> AppendResult

    /// Runs `body` in a write transaction that changes only state tables.
    func updateState<R: Sendable>(_ body: @escaping @Sendable (any KeyValueWriter) throws -> R) async throws -> R

    /// The head of the log.
    func head() throws -> LogHead

    /// Up to `limit` raw events with positions `>= position`, in order, read in one short
    /// read transaction.
    func rawEvents(from position: UInt64, limit: Int) throws -> [RawEvent]

    /// Up to `limit` positions of `tenant`'s events that are `> position`, in order.
    func tenantPositions(_ tenant: String, after position: UInt64, limit: Int) throws -> [UInt64]

    /// The position of the event with `id`, if it is in the log.
    func position(of id: EventID) throws -> UInt64?

    /// Runs `body` against one consistent snapshot of every table.
    func read<R>(_ body: (any KeyValueReader) throws -> R) throws -> R

    /// The status of every registered projection.
    func projectionStatus() throws -> [ProjectionStatus]

    /// Rebuilds projections (all, or the named ones) from the log into fresh tables and swaps
    /// them in atomically when complete. `progress` receives (applied, head).
    func rebuildProjections(named names: [String]?, progress: (@Sendable (UInt64, UInt64) -> Void)?) async throws
}

extension EventStore {
    /// Validates and serializes `events` (on the caller's thread, so the writer only hashes and
    /// writes), then appends them as ``append(encoded:precondition:)`` does.
    @discardableResult
    package func append(
        _ events: [EventEnvelope],
        precondition: (@Sendable (any KeyValueWriter) throws -> Void)?
    ) async throws -> AppendResult {
        var encoded: [EncodedEvent] = []
        encoded.reserveCapacity(events.count)
        for (i, e) in events.enumerated() {
            do { encoded.append(try EncodedEvent(e)) } catch {
                throw EventLogError(.invalidEvent, "event \(i) of the batch: \(error.message)")
            }
        }
        return try await append(encoded: encoded, precondition: precondition)
    }

    /// Appends `events` atomically with no precondition.
    @discardableResult
    package func append(_ events: [EventEnvelope]) async throws -> AppendResult {
        try await append(events, precondition: nil)
    }

    /// Up to `limit` decoded events with positions `>= position`.
    package func events(from position: UInt64, limit: Int) throws -> [RecordedEvent] {
        try rawEvents(from: position, limit: limit).map { try $0.decode() }
    }

    /// Visits raw events from `start` through `end` (or the head at the time of each chunk),
    /// reading `chunk` events per short read transaction, until `body` returns `false`.
    package func forEachRawEvent(
        from start: UInt64 = 1, through end: UInt64? = nil, chunk: Int = 4096,
        _ body: (RawEvent) throws -> Bool
    ) throws {
        var next = max(start, 1)
        while true {
            if let end, next > end { return }
            let batch = try rawEvents(from: next, limit: chunk)
            if batch.isEmpty { return }
            for e in batch {
                if let end, e.position > end { return }
                if try !body(e) { return }
            }
            next = batch.last!.position + 1
        }
    }
}
