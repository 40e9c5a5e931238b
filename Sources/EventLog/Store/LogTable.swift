/// The log's own tables, as a verifier walks them entry by entry (see
/// ``EventStore/rawEntries(_:after:limit:)``).
package enum LogTable: String, Sendable, CaseIterable {
    /// Position → chain hash and envelope.
    case events
    /// Event id → position.
    case eventIDs = "event_ids"
    /// Tenant and position → nothing.
    case tenantEvents = "tenant_events"
}
