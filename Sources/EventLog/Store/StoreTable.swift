/// A named key/value table kept beside the log: a projection's table or a state table.
///
/// Keys are byte strings compared lexicographically; design them so that related rows share
/// a prefix (tenant first) and queries are prefix scans.
package struct StoreTable: Sendable, Hashable, CustomStringConvertible {
    /// Who owns the table.
    package enum Kind: String, Sendable, Hashable {
        /// Owned by a projection; rebuilt from the log.
        case projection
        /// Coordination state that is not derived from the log (leases, limiter slots).
        case state
    }

    package let kind: Kind
    /// For projection tables, the projection's name; for state tables, empty.
    package let owner: String
    package let name: String
    /// A hash of the three, computed once: projections name a table for every event, and
    /// comparing (or hashing) two words is cheaper than comparing the names.
    let fingerprint: UInt64

    init(kind: Kind, owner: String, name: String) {
        self.kind = kind
        self.owner = owner
        self.name = name
        // FNV-1a over kind ‖ 0 ‖ owner ‖ 0 ‖ name: stable, and any difference changes it
        // with overwhelming likelihood (equality still compares the names).
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in kind.rawValue.utf8 + [0] + owner.utf8 + [0] + name.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        fingerprint = h
    }

    /// A table of the projection named `projection`.
    package static func projection(_ projection: String, _ name: String) -> StoreTable {
        StoreTable(kind: .projection, owner: projection, name: name)
    }

    /// A state table.
    package static func state(_ name: String) -> StoreTable {
        StoreTable(kind: .state, owner: "", name: name)
    }

    package static func == (a: StoreTable, b: StoreTable) -> Bool {
        a.fingerprint == b.fingerprint && a.kind == b.kind && a.owner == b.owner && a.name == b.name
    }

    package func hash(into hasher: inout Hasher) { hasher.combine(fingerprint) }

    package var description: String { kind == .projection ? "\(owner).\(name)" : "state.\(name)" }
}
