// Inventory module.
