import EventLog

/// The last-seen inventory: one row per tenant + policy type + external id.
///
/// Table `items`, value (56 bytes): first-seen time (8-byte BE ms) ‖ first-seen position ‖
/// last-seen position ‖ content SHA-256 (32 bytes). The rest of the row (name, meta, run) is
/// read from the event at the last-seen position, so the table stays small and clustered.
public struct ItemsProjection: Projection {
    public let name = "inventory_items"
    public let version = 1
    public let tableNames = ["items"]
    public var consumedEventTypes: Set<String>? { [InventoryEventType.itemObserved] }
    public init() {}

    static let table = StoreTable.projection("inventory_items", "items")

    public func prepare(_ event: ProjectionEvent) {
        guard event.type == InventoryEventType.itemObserved else { return }
        _ = event.memoized { ItemObserved.IndexFields(event.data) }
    }

    public func apply(_ event: ProjectionEvent, to tables: any KeyValueWriter) throws {
        guard event.type == InventoryEventType.itemObserved else { return }
        guard let f = event.memoized({ ItemObserved.IndexFields(event.data) }), let sha = f.contentSHA256 else {
            throw InventoryPayloadError("item_observed at \(event.position) lacks policy_type, external_id or content_sha256")
        }
        let key = InventoryKeys.item(event.tenant, typeAndID: f.typeAndID)
        try tables.update(Self.table, key) { old in
            var value = [UInt8]()
            value.reserveCapacity(56)
            if let old, old.count >= 16 {
                value += old[0..<16]
            } else {
                InventoryKeys.appendBigEndian(UInt64(bitPattern: try event.recordedAt().millisecondsSinceEpoch), to: &value)
                InventoryKeys.appendBigEndian(event.position, to: &value)
            }
            InventoryKeys.appendBigEndian(event.position, to: &value)
            value += sha
            return value
        }
    }
}
