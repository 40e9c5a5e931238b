/// A named key/value table kept beside the log: a projection's table or a state table.
///
/// Keys are byte strings compared lexicographically; design them so that related rows share
/// a prefix (tenant first) and queries are prefix scans.
public struct StoreTable: Sendable, Hashable, CustomStringConvertible {
    /// Who owns the table.
    public enum Kind: String, Sendable, Hashable {
        /// Owned by a projection; rebuilt from the log.
        case projection
        /// Coordination state that is not derived from the log (leases, limiter slots).
        case state
    }

    public let kind: Kind
    /// For projection tables, the projection's name; for state tables, empty.
    public let owner: String
    public let name: String

    /// A table of the projection named `projection`.
    public static func projection(_ projection: String, _ name: String) -> StoreTable {
        StoreTable(kind: .projection, owner: projection, name: name)
    }

    /// A state table.
    public static func state(_ name: String) -> StoreTable {
        StoreTable(kind: .state, owner: "", name: name)
    }

    public var description: String { kind == .projection ? "\(owner).\(name)" : "state.\(name)" }
}
