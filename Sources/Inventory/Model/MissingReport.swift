package import CanonicalJSON

/// What the latest completed run of a tenant + selection did not see.
package struct MissingReport: Sendable, Hashable {
    /// The latest completed run of the same tenant + selection, if any.
    package var latestRun: SyncRun?
    /// `true` when there is no such run, it did not succeed, or it had errors.
    package var lowConfidence: Bool
    /// Seen by an earlier completed run of the selection, not by the latest, whose type the
    /// latest enumerated completely.
    package var missing: [InventoryItem]
    /// Like missing, but the latest run did not enumerate the type completely: whether the
    /// item still exists is unknown.
    package var unknown: [InventoryItem]

    package var json: JSONValue {
        .object([
            "latest_run": latestRun?.json ?? .null, "low_confidence": .bool(lowConfidence),
            "missing": .array(missing.map(\.json)), "unknown": .array(unknown.map(\.json)),
        ])
    }
}
