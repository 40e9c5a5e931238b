/// The sizes of what becomes part of a store key, in UTF-8 bytes, chosen so that every key of
/// every table fits LMDB's 511-byte key limit with room to spare.
///
/// The longest keys (see ``InventoryKeys`` and docs/inventory-events.md):
/// - `observations`: tenant ‖ 0 ‖ 32-byte selection hash ‖ policy type ‖ 0 ‖ external id
///   = 128 + 1 + 32 + 64 + 1 + 256 = 482 bytes at most;
/// - `items`: tenant ‖ 0 ‖ policy type ‖ 0 ‖ external id = 450;
/// - `run_leases`: `L` ‖ tenant ‖ 0 ‖ 64 hex digits = 194; `S` ‖ tenant ‖ 0 ‖ run id = 166;
/// - `by_last_runs`: tenant ‖ 0 ‖ 32-byte selection hash ‖ two run ids ‖ 8-byte entry = 201;
/// - `tenant_events`, `runs`, `completed`: tenant plus at most 41 bytes.
package enum InventoryLimits {
    /// LMDB's largest key (its default `MDB_MAXKEYSIZE`).
    package static let lmdbKeyBytes = 511
    /// Longest tenant.
    package static let tenantBytes = 128
    /// Longest policy type key (the registry's are well below).
    package static let policyTypeBytes = 64
    /// Longest external id; a longer one is a rejected item (`graph_item_invalid`).
    package static let externalIDBytes = 256
    /// The bytes every key keeps free below `lmdbKeyBytes`, at the largest allowed values.
    package static let keyMarginBytes = 16
}
