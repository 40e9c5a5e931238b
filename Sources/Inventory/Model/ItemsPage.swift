/// One page of a tenant's inventory (``InventoryQueries/items(tenant:policyType:after:limit:)``).
public struct ItemsPage: Sendable, Hashable {
    /// The items, ordered by policy type then external id.
    public var items: [InventoryItem]
    /// Where the next page starts, or `nil` when this page ends the inventory.
    public var next: ItemsCursor?

    public init(items: [InventoryItem], next: ItemsCursor?) {
        self.items = items
        self.next = next
    }
}
