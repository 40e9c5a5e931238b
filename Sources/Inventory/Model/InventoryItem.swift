package import CanonicalJSON
package import EventLog

/// One row of the last-seen inventory.
package struct InventoryItem: Sendable, Hashable {
    package var tenant: String
    package var policyType: String
    package var externalID: String
    package var displayName: String?
    package var category: String
    package var platform: String?
    package var meta: [String: JSONValue]
    package var contentSHA256: String
    package var firstSeenAt: Timestamp
    package var lastSeenAt: Timestamp
    package var lastSeenRunID: String
    /// Log position of the observation that last updated the row.
    package var lastSeenPosition: UInt64

    /// The row as JSON with snake_case keys.
    package var json: JSONValue {
        .object([
            "policy_type": .string(policyType), "external_id": .string(externalID),
            "display_name": displayName.map { .string($0) } ?? .null, "category": .string(category),
            "platform": platform.map { .string($0) } ?? .null, "meta": .object(meta),
            "content_sha256": .string(contentSHA256), "first_seen_at": .string(firstSeenAt.description),
            "last_seen_at": .string(lastSeenAt.description), "last_seen_run_id": .string(lastSeenRunID),
        ])
    }
}
