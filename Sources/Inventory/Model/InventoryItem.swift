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
    /// The whitelisted metadata: the canonical JSON of an object, as the stored observation holds it.
    package var metaJSON: [UInt8]
    package var contentSHA256: String
    package var firstSeenAt: Timestamp
    package var lastSeenAt: Timestamp
    package var lastSeenRunID: String
    /// Log position of the observation that last updated the row.
    package var lastSeenPosition: UInt64

    package init(tenant: String, policyType: String, externalID: String, displayName: String?, category: String,
                 platform: String?, metaJSON: [UInt8], contentSHA256: String, firstSeenAt: Timestamp, lastSeenAt: Timestamp,
                 lastSeenRunID: String, lastSeenPosition: UInt64) {
        self.tenant = tenant
        self.policyType = policyType
        self.externalID = externalID
        self.displayName = displayName
        self.category = category
        self.platform = platform
        self.metaJSON = metaJSON
        self.contentSHA256 = contentSHA256
        self.firstSeenAt = firstSeenAt
        self.lastSeenAt = lastSeenAt
        self.lastSeenRunID = lastSeenRunID
        self.lastSeenPosition = lastSeenPosition
    }

    /// The whitelisted metadata (``metaJSON`` parsed).
    package var meta: [String: JSONValue] {
        (try? JSONParser().parse(metaJSON))?.objectValue ?? [:]
    }

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
