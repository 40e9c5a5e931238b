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

    // MARK: Identity

    /// Where the store is, for messages: the directory of an embedded store, or the server's
    /// URL without its password.
    var location: String { get }

    /// Whether the store was opened without write access: every write throws `read_only`.
    var isReadOnly: Bool { get }

    /// The store's format (`format_version`): how its events are chained (see ``ChainHash``).
    var formatVersion: Int { get }

    /// The store's identity and creation time (`format_version`, `store_id`, `created_at`).
    func metadata() throws -> [String: String]

    /// Every tenant with at least one event, in byte order.
    func tenants() throws -> [String]

    /// The projections whose tables do not reflect the whole log: never built, built by another
    /// version, or behind the head. Read in one snapshot, so a live writer never makes a
    /// current projection look stale. Empty when every projection answers for the whole log.
    ///
    /// A writable open brings projections up to date itself; a read-only open cannot, and its
    /// readers use this to refuse instead of answering from stale tables.
    func staleProjections() throws -> [StaleProjection]

    // MARK: Copying and verifying

    /// Appends `events`, which must continue the head exactly (positions head + 1, head + 2, …),
    /// keeping their bytes: each chain hash is recomputed from the one before it and must equal
    /// the given one. Projections are applied as for ``append(encoded:precondition:)``. For
    /// copying a log between stores with positions, chain and bytes unchanged.
    ///
    /// - Throws: ``EventLogError`` `position_out_of_range` when the events do not continue the
    ///   head, `corrupt_event` when a chain hash differs (naming the position), `invalid_event`
    ///   for an envelope that does not decode or an id already in the log; nothing is written then.
    func appendVerbatim(_ events: [RawEvent]) async throws

    /// Up to `limit` entries of `table` whose keys come after `key` (from the first entry when
    /// `nil`), in key order, as stored: nothing is decoded, so damaged keys and values come back
    /// as they are. A verifier resumes with the greatest key it has seen.
    func rawEntries(_ table: LogTable, after key: [UInt8]?, limit: Int) throws -> [RawTableEntry]

    // MARK: Named consumers

    /// The durable checkpoint of the named consumer, or `nil` when it has none.
    func consumerCheckpoint(_ name: String) throws -> ConsumerCheckpoint?

    /// Every consumer's checkpoint, by name.
    func consumers() throws -> [ConsumerCheckpoint]

    /// Creates the consumer or moves its checkpoint (forward or back) to `position`: it will
    /// resume after it. Refused (`consumer_held`) while a subscription of the consumer runs.
    @discardableResult
    func setConsumerCheckpoint(_ name: String, to position: UInt64) async throws -> ConsumerCheckpoint

    /// Removes the consumer and its checkpoint (and filter); returns whether it existed.
    /// Refused (`consumer_held`) while a subscription of the consumer runs.
    @discardableResult
    func removeConsumer(_ name: String) async throws -> Bool

    /// Every consumer lease in the store, by consumer name, including lapsed ones (see
    /// ``ConsumerLease/isHolderAlive(now:)``).
    func consumerLeases() throws -> [ConsumerLease]

    /// The lease of the named consumer, live or lapsed, or `nil`.
    func consumerLease(_ name: String) throws -> ConsumerLease?

    // MARK: Subscriptions

    /// Follows the log from the event after `position` (0: from the first event), forever.
    ///
    /// - Throws: `position_out_of_range` when `position` is beyond the head.
    func subscribe(after position: UInt64, filter: SubscriptionFilter, options: SubscriptionOptions) throws -> EventSubscription

    /// Follows the log as the named consumer: from the event after its durable checkpoint, or,
    /// for a consumer without one, after `startingAfter` (0: from the first event). One
    /// subscription per consumer name runs at a time, across every process on the store; a
    /// checkpoint recorded with another filter is refused unless `reset` (see docs/subscriptions.md).
    ///
    /// - Throws: `invalid_acknowledgement` for an invalid name; `consumer_held` while another
    ///   live subscription holds the consumer; `consumer_filter_mismatch` naming both filters;
    ///   `read_only` on a read-only store; `position_out_of_range` when the start is beyond the head.
    func subscribe(
        consumer name: String, filter: SubscriptionFilter, startingAfter: UInt64, reset: Bool, options: SubscriptionOptions
    ) throws -> EventSubscription

    // MARK: Where reads wait

    /// Whether a read waits for another process to answer over a connection (a database
    /// server), rather than reading a local file. A caller serving many clients at once runs
    /// such reads on threads of its own, not on Swift's cooperative threads, which a read that
    /// waits for the network would hold.
    var readsWaitForServer: Bool { get }
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
