/// Names and layouts of the LMDB named databases of a store (documented in
/// docs/event-stream-format.md).
enum StoreLayout {
    /// The on-disk format this build creates stores in, and the newest it reads: 2 chains each
    /// event's digest (see ``ChainHash``); format 1 stores, which chain each event's JSON, are
    /// read and appended to in their own format.
    static let formatVersion = 2

    /// `events`: 8-byte big-endian position → 32-byte chain hash ‖ canonical envelope JSON.
    static let events = "events"
    /// `event_ids`: 16-byte event id → 8-byte big-endian position.
    static let eventIDs = "event_ids"
    /// `tenant_events`: tenant UTF-8 ‖ 0x00 ‖ 8-byte big-endian position → empty.
    static let tenantEvents = "tenant_events"
    /// `meta`: ASCII key (`format_version`, `store_id`, `created_at`) → UTF-8 value.
    static let meta = "meta"
    /// `projections`: projection name → canonical JSON status record.
    static let projections = "projections"
    /// `consumers`: consumer name → canonical JSON checkpoint record.
    static let consumers = "consumers"

    /// The database holding a projection table of one generation.
    static func projectionTable(_ projection: String, generation: Int, _ table: String) -> String {
        "p/\(projection)/\(generation)/\(table)"
    }

    /// The prefix of every table of a projection.
    static func projectionPrefix(_ projection: String) -> String { "p/\(projection)/" }

    /// The database holding a state table.
    static func stateTable(_ name: String) -> String { "s/\(name)" }

    static let maxDatabases: UInt32 = 256
}
