package import CanonicalJSON

/// `inventory.item_observed`: a run saw one policy. Carries whitelisted metadata and a hash of
/// the Graph object, never the object itself.
package struct ItemObserved: Sendable, Hashable {
    package var runID: String
    package var selectionHash: String
    package var policyType: String
    package var externalID: String
    package var displayName: String?
    package var category: String
    package var platform: String?
    package var meta: [String: JSONValue]
    /// Lowercase hex SHA-256 of the RFC 8785 form of the Graph object as received.
    package var contentSHA256: String
    /// Keys of the Graph object dropped by the metadata whitelist.
    package var droppedMetaKeys: Int

    package init(runID: String, selectionHash: String, policyType: String, externalID: String, displayName: String?,
                category: String, platform: String?, meta: [String: JSONValue], contentSHA256: String, droppedMetaKeys: Int) {
        self.runID = runID
        self.selectionHash = selectionHash
        self.policyType = policyType
        self.externalID = externalID
        self.displayName = displayName
        self.category = category
        self.platform = platform
        self.meta = meta
        self.contentSHA256 = contentSHA256
        self.droppedMetaKeys = droppedMetaKeys
    }

    package var data: JSONValue {
        .object([
            "run_id": .string(runID), "selection_hash": .string(selectionHash), "policy_type": .string(policyType),
            "external_id": .string(externalID), "display_name": displayName.map { .string($0) } ?? .null,
            "category": .string(category), "platform": platform.map { .string($0) } ?? .null,
            "meta": .object(meta), "content_sha256": .string(contentSHA256),
            "dropped_meta_keys": .number(Double(droppedMetaKeys)),
        ])
    }

    package init(data: JSONValue) throws(InventoryPayloadError) {
        let r = try PayloadReader(data, type: InventoryEventType.itemObserved)
        runID = try r.string("run_id")
        selectionHash = try r.string("selection_hash")
        policyType = try r.string("policy_type")
        externalID = try r.string("external_id")
        displayName = try r.optionalString("display_name")
        category = try r.string("category")
        platform = try r.optionalString("platform")
        meta = try r.object("meta")
        contentSHA256 = try r.string("content_sha256")
        droppedMetaKeys = try r.int("dropped_meta_keys")
    }
}
