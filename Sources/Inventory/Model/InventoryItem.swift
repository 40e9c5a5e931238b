import CanonicalJSON
import EventLog

/// One row of the last-seen inventory.
public struct InventoryItem: Sendable, Hashable {
    public var tenant: String
    public var policyType: String
    public var externalID: String
    public var displayName: String?
    public var category: String
    public var platform: String?
    public var meta: [String: JSONValue]
    public var contentSHA256: String
    public var firstSeenAt: Timestamp
    public var lastSeenAt: Timestamp
    public var lastSeenRunID: String
    /// Log position of the observation that last updated the row.
    public var lastSeenPosition: UInt64

    /// The row as JSON with snake_case keys.
    public var json: JSONValue {
        .object([
            "policy_type": .string(policyType), "external_id": .string(externalID),
            "display_name": displayName.map { .string($0) } ?? .null, "category": .string(category),
            "platform": platform.map { .string($0) } ?? .null, "meta": .object(meta),
            "content_sha256": .string(contentSHA256), "first_seen_at": .string(firstSeenAt.description),
            "last_seen_at": .string(lastSeenAt.description), "last_seen_run_id": .string(lastSeenRunID),
        ])
    }
}
