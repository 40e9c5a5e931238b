/// A view derived from the log, kept in the same write transaction as every append.
///
/// A projection owns tables (named ``StoreTable/projection(_:_:)`` with its own name) and
/// updates them in ``apply(_:to:)``. Applying the whole log from position 1 to an empty set of
/// tables must produce the same tables as applying it incrementally. Bump ``version`` whenever
/// the table layout or the meaning of `apply` changes: the store then rebuilds the projection.
package protocol Projection: Sendable {
    /// A unique name: lowercase letters, digits and `_`.
    var name: String { get }
    /// The layout version.
    var version: Int { get }
    /// The table names this projection writes.
    var tableNames: [String] { get }
    /// The event types `apply` reacts to, or `nil` for every type. Rebuilds skip decoding the
    /// other events.
    var consumedEventTypes: Set<String>? { get }
    /// Updates the tables for one event. Must be deterministic: it may read only the tables and
    /// the event, never the clock or the environment. Read hot fields from
    /// ``ProjectionEvent/data``; ``ProjectionEvent/decoded()`` decodes the whole event.
    func apply(_ event: ProjectionEvent, to tables: any KeyValueWriter) throws
    /// Work on `event` that needs no tables — reading payload fields into
    /// ``ProjectionEvent/memoized(_:)`` — which a rebuild runs ahead of ``apply(_:to:)`` on
    /// another thread. It must be pure, and what it memoizes must not point into the event's
    /// bytes (they are valid only during the call). The default does nothing.
    func prepare(_ event: ProjectionEvent)
}

extension Projection {
    package var consumedEventTypes: Set<String>? { nil }

    package func prepare(_ event: ProjectionEvent) {}

    /// This projection's table named `name`.
    package func table(_ name: String) -> StoreTable { .projection(self.name, name) }
}

/// A projection's stored bookkeeping.
package struct ProjectionStatus: Sendable, Hashable {
    package var name: String
    package var version: Int
    /// The last log position applied.
    package var checkpoint: UInt64
    /// The storage generation of its tables (changes at each rebuild).
    package var generation: Int
    /// Entries per table.
    package var entries: [String: Int]

    package init(name: String, version: Int, checkpoint: UInt64, generation: Int, entries: [String: Int]) {
        self.name = name
        self.version = version
        self.checkpoint = checkpoint
        self.generation = generation
        self.entries = entries
    }
}
