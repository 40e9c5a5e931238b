package import CanonicalJSON

/// What differs between two completed runs of one tenant + selection (`atlas changes`).
///
/// Only policy types enumerated completely in both runs are classified; every other type of
/// either run is listed in ``unknownTypes`` and none of its items appears elsewhere.
package struct RunChanges: Sendable, Hashable {
    /// One item as a run observed it.
    package struct Item: Sendable, Hashable {
        package var policyType: String
        package var externalID: String
        package var displayName: String?
        package var contentSHA256: String
        /// The from-run's content hash (`changed` items only).
        package var previousContentSHA256: String?

        package var json: JSONValue {
            var o: [String: JSONValue] = [
                "policy_type": .string(policyType), "external_id": .string(externalID),
                "display_name": displayName.map { .string($0) } ?? .null, "content_sha256": .string(contentSHA256),
            ]
            if let previousContentSHA256 { o["previous_content_sha256"] = .string(previousContentSHA256) }
            return .object(o)
        }
    }

    package var tenant: String
    package var selectionHash: String
    package var fromRun: SyncRun
    package var toRun: SyncRun
    /// Observed in the to-run, not in the from-run.
    package var added: [Item]
    /// Observed in the from-run, not in the to-run (its type enumerated completely in both).
    package var removed: [Item]
    /// Observed in both with different content hashes (the to-run's values, and the from-run's hash).
    package var changed: [Item]
    /// Types not enumerated completely in one of the runs, sorted.
    package var unknownTypes: [String]

    package var json: JSONValue {
        .object([
            "tenant": .string(tenant), "selection_hash": .string(selectionHash),
            "from_run": .string(fromRun.runID), "to_run": .string(toRun.runID),
            "added": .array(added.map(\.json)), "removed": .array(removed.map(\.json)),
            "changed": .array(changed.map(\.json)), "unknown_types": .array(unknownTypes.map { .string($0) }),
        ])
    }
}
