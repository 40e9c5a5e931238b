/// The event types the inventory writes (payload `schema` 1). See docs/inventory-events.md.
public enum InventoryEventType {
    public static let syncRunStarted = "inventory.sync_run_started"
    public static let policyTypeEnumerated = "inventory.policy_type_enumerated"
    public static let itemObserved = "inventory.item_observed"
    public static let syncRunFinished = "inventory.sync_run_finished"
    /// Reserved and documented; never produced.
    public static let itemDeleted = "inventory.item_deleted"

    /// Every type a sync may append.
    public static let produced: Set<String> = [syncRunStarted, policyTypeEnumerated, itemObserved, syncRunFinished]
    /// The payload schema version of every inventory event type.
    public static let schema = 1
}

/// A payload that does not have the documented shape.
public struct InventoryPayloadError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
