import EventLog
import Foundation

/// The last-seen inventory: one row per tenant + policy type + external id.
///
/// Table `items`, value (56 bytes): first-seen time (8-byte BE ms) ‖ first-seen position ‖
/// last-seen position ‖ content SHA-256 (32 bytes). The rest of the row (name, meta, run) is
/// read from the event at the last-seen position, so the table stays small and clustered.
public struct ItemsProjection: Projection {
    // Computed, not stored: the store copies projections as existentials for every event,
    // and an empty struct copies without reference counting.
    public var name: String { "inventory_items" }
    public var version: Int { 1 }
    public var tableNames: [String] { ["items"] }
    public var consumedEventTypes: Set<String>? { [InventoryEventType.itemObserved] }
    public init() {}

    static let table = StoreTable.projection("inventory_items", "items")

    public func prepare(_ event: ProjectionEvent) {
        guard event.type == InventoryEventType.itemObserved else { return }
        _ = ItemObserved.IndexFields.of(event)
    }

    public func apply(_ event: ProjectionEvent, to tables: any KeyValueWriter) throws {
        guard event.type == InventoryEventType.itemObserved else { return }
        guard let f = ItemObserved.IndexFields.of(event), let sha = f.contentSHA256 else {
            throw InventoryPayloadError("item_observed at \(event.position) lacks policy_type, external_id or content_sha256")
        }
        // Whether the row is new or its content changed (the last call of the closure saw the
        // stored row): what a sync reports as upserted.
        var changed = true
        try InventoryKeys.withItemKey(event.tenant, typeAndID: f.typeAndID) { key in
            try tables.upsert(Self.table, key: key, size: 56, insert: { v in
                // First seen: now, here; last seen the same.
                InventoryKeys.storeBigEndian(UInt64(bitPattern: try event.recordedAt().millisecondsSinceEpoch), to: v, at: 0)
                InventoryKeys.storeBigEndian(event.position, to: v, at: 8)
                InventoryKeys.storeBigEndian(event.position, to: v, at: 16)
                sha.withUnsafeBytes { (v.baseAddress! + 24).copyMemory(from: $0.baseAddress!, byteCount: 32) }
            }, update: { value in
                if value?.count == 56 {
                    // Seen before: first seen stays; last seen and content change in place.
                    changed = value!.withUnsafeBytes { v in sha.withUnsafeBytes { memcmp(v.baseAddress! + 24, $0.baseAddress!, 32) != 0 } }
                    value!.withUnsafeMutableBytes { v in
                        InventoryKeys.storeBigEndian(event.position, to: v, at: 16)
                        sha.withUnsafeBytes { (v.baseAddress! + 24).copyMemory(from: $0.baseAddress!, byteCount: 32) }
                    }
                    return
                }
                // A row of another layout: rewritten, keeping what first-seen bytes it has.
                var new = [UInt8]()
                new.reserveCapacity(56)
                if let old = value, old.count >= 16 {
                    new += old[0..<16]
                } else {
                    InventoryKeys.appendBigEndian(UInt64(bitPattern: try event.recordedAt().millisecondsSinceEpoch), to: &new)
                    InventoryKeys.appendBigEndian(event.position, to: &new)
                }
                InventoryKeys.appendBigEndian(event.position, to: &new)
                new += sha
                value = new
            })
        }
        if changed { tables.tally(Self.changedTally, 1) }
    }

    /// The tally (see `KeyValueWriter.tally`) of `item_observed` events that made an item's row
    /// new or changed its content: the rows a sync upserted.
    public static let changedTally: StaticString = "inventory.items_changed"
}
