package import EventLog
import Foundation

/// The last-seen inventory: one row per tenant + policy type + external id.
///
/// Table `items`: key tenant ‖ 0 ‖ policy type ‖ 0 ‖ external id, value an ``ItemRow``.
package struct ItemsProjection: Projection {
    // Computed, not stored: the store copies projections as existentials for every event,
    // and an empty struct copies without reference counting.
    package var name: String { "inventory_items" }
    package var version: Int { 1 }
    package var tableNames: [String] { ["items"] }
    package var consumedEventTypes: Set<String>? { [InventoryEventType.itemObserved] }
    package init() {}

    static let table = StoreTable.projection("inventory_items", "items")

    package func prepare(_ event: ProjectionEvent) {
        guard event.type == InventoryEventType.itemObserved else { return }
        _ = ItemObserved.IndexFields.of(event)
    }

    package func apply(_ event: ProjectionEvent, to tables: any KeyValueWriter) throws {
        guard event.type == InventoryEventType.itemObserved else { return }
        guard let f = ItemObserved.IndexFields.of(event), let sha = f.contentSHA256 else {
            throw InventoryPayloadError("item_observed at \(event.position) lacks policy_type, external_id or content_sha256")
        }
        // Whether the row is new or its content changed (the last call of the closure saw the
        // stored row): what a sync reports as upserted.
        var changed = true
        try InventoryKeys.withItemKey(event.tenant, typeAndID: f.typeAndID) { key in
            try sha.withUnsafeBytes { sha in
                try tables.upsert(Self.table, key: key, size: ItemRow.size, insert: { v in
                    // First seen: now, here; last seen the same.
                    ItemRow.write(into: v, firstSeenAt: try event.recordedAt().millisecondsSinceEpoch, position: event.position,
                                  contentSHA256: sha)
                }, update: { value in
                    if value?.withUnsafeBytes(ItemRow.isValid) == true {
                        // Seen before: first seen stays; last seen and content change in place.
                        changed = value!.withUnsafeBytes { ItemRow.contentDiffers($0, from: sha) }
                        value!.withUnsafeMutableBytes { ItemRow.observe(in: $0, position: event.position, contentSHA256: sha) }
                        return
                    }
                    // A row of another layout: rewritten, keeping what first-seen bytes it has.
                    value = try ItemRow.rewriting(value, firstSeenAt: { try event.recordedAt().millisecondsSinceEpoch },
                                                  position: event.position, contentSHA256: sha)
                })
            }
        }
        if changed { tables.tally(Self.changedTally, 1) }
    }

    /// The tally (see `KeyValueWriter.tally`) of `item_observed` events that made an item's row
    /// new or changed its content: the rows a sync upserted.
    package static let changedTally: StaticString = "inventory.items_changed"
}
