/// One page of a tenant's inventory (``InventoryQueries/items(tenant:policyType:after:limit:)``).
package struct ItemsPage: Sendable, Hashable {
    /// The items, ordered by policy type then external id.
    package var items: [InventoryItem]
    /// Where the next page starts, or `nil` when this page ends the inventory.
    package var next: ItemsCursor?

    package init(items: [InventoryItem], next: ItemsCursor?) {
        self.items = items
        self.next = next
    }
}
