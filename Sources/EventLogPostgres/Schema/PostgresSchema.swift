/// The tables of a PostgreSQL store, in schema `atlas` (documented in
/// docs/event-stream-format.md).
enum PostgresSchema {
    /// The version of this table layout (`meta.schema_version`); a store with a newer one is
    /// refused. The chain format (`meta.format_version`) is the same as LMDB's.
    static let version = 1

    /// The advisory lock key taken while the schema is created, so two processes creating the
    /// same store at once make it once.
    static let creationLock: Int64 = 0x4154_4C41_5331_3901

    /// The channel a commit notifies with its new head position.
    static let channel = "atlas_events"

    /// Creates every table and the empty head; run in one transaction.
    static let create: [String] = [
        "CREATE SCHEMA IF NOT EXISTS atlas",
        "CREATE TABLE atlas.meta (key text PRIMARY KEY, value text NOT NULL)",
        "CREATE TABLE atlas.events (position bigint PRIMARY KEY, chain bytea NOT NULL, envelope bytea NOT NULL)",
        "CREATE TABLE atlas.event_ids (id bytea PRIMARY KEY, position bigint NOT NULL)",
        "CREATE TABLE atlas.tenant_events (tenant bytea NOT NULL, position bigint NOT NULL, PRIMARY KEY (tenant, position))",
        """
        CREATE TABLE atlas.head (only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
            position bigint NOT NULL, chain bytea NOT NULL)
        """,
        "INSERT INTO atlas.head (position, chain) VALUES (0, '\\x\(String(repeating: "00", count: 32))'::bytea)",
        """
        CREATE TABLE atlas.projections (name text PRIMARY KEY, version integer NOT NULL,
            generation integer NOT NULL, checkpoint bigint NOT NULL)
        """,
        """
        CREATE TABLE atlas.kv_tables (id serial PRIMARY KEY, kind text NOT NULL, owner text NOT NULL,
            name text NOT NULL, generation integer NOT NULL, UNIQUE (kind, owner, name, generation))
        """,
        // Room on each page for a row's new value, so that updating a projection row (every
        // sync updates each item's) can stay on its page without a new index entry.
        "CREATE TABLE atlas.kv (tbl integer NOT NULL, key bytea NOT NULL, value bytea NOT NULL, PRIMARY KEY (tbl, key)) WITH (fillfactor = 80)",
    ]
}
