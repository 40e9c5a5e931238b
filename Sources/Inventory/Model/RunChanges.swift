import CanonicalJSON

/// What differs between two completed runs of one tenant + selection (`atlas changes`).
///
/// Only policy types enumerated completely in both runs are classified; every other type of
/// either run is listed in ``unknownTypes`` and none of its items appears elsewhere.
public struct RunChanges: Sendable, Hashable {
    /// One item as a run observed it.
    public struct Item: Sendable, Hashable {
        public var policyType: String
        public var externalID: String
        public var displayName: String?
        public var contentSHA256: String
        /// The from-run's content hash (`changed` items only).
        public var previousContentSHA256: String?

        public var json: JSONValue {
            var o: [String: JSONValue] = [
                "policy_type": .string(policyType), "external_id": .string(externalID),
                "display_name": displayName.map { .string($0) } ?? .null, "content_sha256": .string(contentSHA256),
            ]
            if let previousContentSHA256 { o["previous_content_sha256"] = .string(previousContentSHA256) }
            return .object(o)
        }
    }

    public var tenant: String
    public var selectionHash: String
    public var fromRun: SyncRun
    public var toRun: SyncRun
    /// Observed in the to-run, not in the from-run.
    public var added: [Item]
    /// Observed in the from-run, not in the to-run (its type enumerated completely in both).
    public var removed: [Item]
    /// Observed in both with different content hashes (the to-run's values, and the from-run's hash).
    public var changed: [Item]
    /// Types not enumerated completely in one of the runs, sorted.
    public var unknownTypes: [String]

    public var json: JSONValue {
        .object([
            "tenant": .string(tenant), "selection_hash": .string(selectionHash),
            "from_run": .string(fromRun.runID), "to_run": .string(toRun.runID),
            "added": .array(added.map(\.json)), "removed": .array(removed.map(\.json)),
            "changed": .array(changed.map(\.json)), "unknown_types": .array(unknownTypes.map { .string($0) }),
        ])
    }
}
