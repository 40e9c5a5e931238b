/// The event types the inventory writes (payload `schema` 1). See docs/inventory-events.md.
package enum InventoryEventType {
    package static let syncRunStarted = "inventory.sync_run_started"
    package static let policyTypeEnumerated = "inventory.policy_type_enumerated"
    package static let itemObserved = "inventory.item_observed"
    package static let syncRunFinished = "inventory.sync_run_finished"
    /// Reserved and documented; never produced.
    package static let itemDeleted = "inventory.item_deleted"

    /// Every type a sync may append.
    package static let produced: Set<String> = [syncRunStarted, policyTypeEnumerated, itemObserved, syncRunFinished]
    /// The payload schema version of every inventory event type.
    package static let schema = 1
}

/// A payload that does not have the documented shape.
package struct InventoryPayloadError: Error, Sendable, Hashable, CustomStringConvertible {
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}
