package import EventLog
import Foundation
import NIOCore
import PostgresNIO

/// The event log on a PostgreSQL server that many hosts share: the same events, chain,
/// projections and answers as ``LMDBEventStore``, in schema `atlas` of one database.
///
/// Appends from every process serialize on the one-row `atlas.head`, locked in each append
/// transaction, so positions stay gapless and the chain unbroken. Within a process one writer
/// groups every pending append into one transaction (group commit), fetches the projection
/// rows the group touches with one query and writes them back with one statement. Reads run in
/// `REPEATABLE READ READ ONLY` transactions on a small pool of connections.
// @unchecked Sendable: the table-id cache is guarded by `cacheLock`, the wake signal by `wakeLock`
// (the pending appends are a `GroupCommitQueue`); the writer's session is used only on the
// writer queue.
package final class PostgresEventStore: EventStore, @unchecked Sendable {
    /// Options for opening a store.
    package struct Options: Sendable {
        /// Create the schema when the database has none.
        package var create: Bool
        /// Commit durability: `synchronous_commit` on (durable) or off (relaxed).
        package var durability: Durability
        /// Open without writing anything.
        package var readOnly: Bool
        /// Projections maintained in every append transaction.
        package var projections: [any Projection]
        /// State tables (not derived from the log) the application uses.
        package var stateTables: [String]
        /// The chain format of a store created by this open (see ``ChainHash``).
        package var formatVersion: Int
        /// How often a caught-up subscription rescans while its store's LISTEN connection is
        /// down (or, with ``SubscriptionOptions/watch`` off, always).
        package var wakePollInterval: Duration
        /// How often a caught-up subscription rescans even while notifications arrive: a safety
        /// net against a connection that stopped delivering without breaking.
        package var wakeSafetyRescan: Duration
        /// How many rows a rebuild keeps in memory before it writes them out and forgets them;
        /// past it, each chunk of events fetches the rows it touches. A rebuild of the inventory's
        /// 600,000 rows (200,000 items, two runs) peaked at 473 MB resident, ~700 bytes a row.
        package var rebuildMemoryRows: Int = 750_000

        package init(create: Bool = false, durability: Durability = .durable, readOnly: Bool = false,
                     projections: [any Projection] = [], stateTables: [String] = [],
                     formatVersion: Int = LMDBEventStore.newestFormat,
                     wakePollInterval: Duration = .milliseconds(200), wakeSafetyRescan: Duration = .seconds(10)) {
            self.wakePollInterval = wakePollInterval
            self.wakeSafetyRescan = wakeSafetyRescan
            self.create = create
            self.durability = durability
            self.readOnly = readOnly
            self.projections = projections
            self.stateTables = stateTables
            self.formatVersion = formatVersion
        }
    }

    /// The server and database.
    package let url: PostgresURL

    /// `true`: every read is a query the server answers.
    package var readsWaitForServer: Bool { true }
    package let options: Options
    /// The store's chain format (`meta.format_version`).
    package let formatVersion: Int
    let projections: [any Projection]
    let pool: SessionPool

    /// `atlas.kv_tables` ids by (kind, owner, name, generation), which never change once made.
    let cacheLock = NSLock()
    var tableIDCache: [TableName: Int32] = [:]

    let pending = GroupCommitQueue<PendingPostgresAppend>()
    let writerQueue = DispatchQueue(label: "atlas.postgres.writer")
    /// The writer's connection; used only on `writerQueue`.
    var writerSession: PostgresSession?

    let wakeLock = NSLock()
    /// The wake signal the store's subscriptions share while one holds it.
    var wakeSignal: PostgresWakeSignal?

    /// One table of `atlas.kv_tables`.
    struct TableName: Hashable {
        var kind: String
        var owner: String
        var name: String
        var generation: Int
    }

    /// Opens the store at `url` (a `postgres://` or `postgresql://` URL).
    package static func open(url: String, options: Options = .init()) throws -> PostgresEventStore {
        try open(url: PostgresURL(parsing: url), options: options)
    }

    /// Opens the store in `url`'s database.
    ///
    /// - Throws: ``EventLogError`` with code `not_a_store` when the database has no Atlas
    ///   schema (and `create` is off) or holds something else in schema `atlas`;
    ///   `newer_format` when it was written by a newer format or schema; `permission_denied`
    ///   when the server refuses the user; `storage_error` when it cannot be reached.
    package static func open(url: PostgresURL, options: Options = .init()) throws -> PostgresEventStore {
        guard (1...LMDBEventStore.newestFormat).contains(options.formatVersion) else {
            throw EventLogError(.invalidOptions, "store format \(options.formatVersion) is not one this build writes (1…\(LMDBEventStore.newestFormat))")
        }
        let pool = SessionPool(url: url)
        let format = try pool.withSession { s in try Self.identify(s, url: url, options: options) }
        let store = PostgresEventStore(url: url, options: options, format: format, pool: pool)
        do {
            try store.prepareProjections()
        } catch {
            store.close()
            throw error
        }
        return store
    }

    private init(url: PostgresURL, options: Options, format: Int, pool: SessionPool) {
        self.url = url
        self.options = options
        self.formatVersion = format
        self.projections = options.projections
        self.pool = pool
    }

    deinit {
        // Nothing else holds the store: its sessions can be closed without the writer queue.
        pool.closeAll()
        writerSession?.close()
    }

    /// Closes the store's connections.
    package func close() {
        pool.closeAll()
        writerQueue.sync {
            writerSession?.close()
            writerSession = nil
        }
    }

    /// Reads (and with `create`, makes) the schema and returns the store's chain format.
    private static func identify(_ s: PostgresSession, url: PostgresURL, options: Options) throws -> Int {
        func schemaExists() throws -> Bool {
            try s.query("SELECT 1 FROM pg_namespace WHERE nspname = 'atlas'").count == 1
        }
        if try !schemaExists() {
            guard options.create, !options.readOnly else {
                throw EventLogError(.notAStore, "\(url) holds no Atlas store (no schema atlas)")
            }
            try s.transaction {
                try s.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.creationLock))")
                guard try !schemaExists() else { return }  // made concurrently
                for statement in PostgresSchema.create { try s.execute(statement) }
                for (k, v) in [("format_version", String(options.formatVersion)),
                               ("schema_version", String(PostgresSchema.version)),
                               ("store_id", EventID.generate().description),
                               ("created_at", Timestamp.now().description)] {
                    try s.query("INSERT INTO atlas.meta (key, value) VALUES (\(k), \(v))")
                }
            }
        }
        let hasMeta = try s.query("SELECT 1 FROM pg_tables WHERE schemaname = 'atlas' AND tablename = 'meta'").count == 1
        guard hasMeta else { throw EventLogError(.notAStore, "\(url) has a schema atlas that is not an Atlas store (no atlas.meta)") }
        var meta: [String: String] = [:]
        for row in try s.query("SELECT key, value FROM atlas.meta") {
            let (k, v) = try row.decode((String, String).self)
            meta[k] = v
        }
        guard let format = meta["format_version"].flatMap(Int.init), format >= 1 else {
            throw EventLogError(.notAStore, "\(url) has no Atlas format version in atlas.meta")
        }
        guard format <= LMDBEventStore.newestFormat else {
            throw EventLogError(.newerFormat, "\(url) has store format \(format); this build reads format \(LMDBEventStore.newestFormat) or older")
        }
        let schema = meta["schema_version"].flatMap(Int.init) ?? 0
        guard schema >= 1 else { throw EventLogError(.notAStore, "\(url) has no Atlas schema version in atlas.meta") }
        guard schema <= PostgresSchema.version else {
            throw EventLogError(.newerFormat, "\(url) has PostgreSQL schema version \(schema); this build reads version \(PostgresSchema.version) or older")
        }
        if !options.readOnly {
            do {
                for name in options.stateTables + [ConsumerLease.tableName, "atlas.consumers"] {
                    try s.query("""
                        INSERT INTO atlas.kv_tables (kind, owner, name, generation) VALUES ('state', '', \(name), 0)
                        ON CONFLICT DO NOTHING
                        """)
                }
            } catch {
                guard let e = PostgresSession.mapError(error) as? EventLogError, e.code == .permissionDenied else { throw error }
                throw EventLogError(.permissionDenied, """
                    \(url): role \(url.user) may only read this store (\(e.message)); writing needs INSERT, UPDATE \
                    and DELETE on the tables of schema atlas
                    """)
            }
        }
        return format
    }

    /// The store's id and creation time, from `atlas.meta`.
    package func metadata() throws -> [String: String] {
        try pool.withSession { s in
            var out: [String: String] = [:]
            for row in try s.query("SELECT key, value FROM atlas.meta") {
                let (k, v) = try row.decode((String, String).self)
                out[k] = v
            }
            return out
        }
    }

    // MARK: Table ids

    /// The id of every table this build uses, for the projections' active `generations`
    /// (name → generation; a projection absent from it has no tables yet).
    func tableIDs(_ s: PostgresSession, generations: [String: Int]) throws -> [StoreTable: Int32] {
        var wanted: [(StoreTable, TableName)] = []
        for name in options.stateTables + [ConsumerLease.tableName, "atlas.consumers"] {
            wanted.append((.state(name), TableName(kind: "state", owner: "", name: name, generation: 0)))
        }
        for p in projections {
            guard let g = generations[p.name] else { continue }
            for t in p.tableNames {
                wanted.append((.projection(p.name, t), TableName(kind: "projection", owner: p.name, name: t, generation: g)))
            }
        }
        var out: [StoreTable: Int32] = [:]
        var missing = false
        cacheLock.lock()
        for (table, name) in wanted {
            if let id = tableIDCache[name] { out[table] = id } else { missing = true }
        }
        cacheLock.unlock()
        guard missing else { return out }
        var all: [TableName: Int32] = [:]
        for row in try s.query("SELECT id, kind, owner, name, generation FROM atlas.kv_tables") {
            let (id, kind, owner, name, g) = try row.decode((Int32, String, String, String, Int32).self)
            all[TableName(kind: kind, owner: owner, name: name, generation: Int(g))] = id
        }
        cacheLock.lock()
        tableIDCache = all
        cacheLock.unlock()
        for (table, name) in wanted {
            if let id = all[name] { out[table] = id }
        }
        return out
    }

    /// Makes the tables of `p`'s generation `g` and returns their ids.
    func createTables(_ s: PostgresSession, _ p: any Projection, generation g: Int) throws -> [StoreTable: Int32] {
        var out: [StoreTable: Int32] = [:]
        for t in p.tableNames {
            let rows = try s.query("""
                INSERT INTO atlas.kv_tables (kind, owner, name, generation) VALUES ('projection', \(p.name), \(t), \(Int32(g)))
                ON CONFLICT (kind, owner, name, generation) DO UPDATE SET kind = EXCLUDED.kind RETURNING id
                """)
            guard let id = try rows.first?.decode(Int32.self) else { throw EventLogError(.storage, "cannot create table \(p.name).\(t)") }
            out[.projection(p.name, t)] = id
        }
        return out
    }

    /// Every projection record: name → (version, generation, checkpoint).
    func projectionRecords(_ s: PostgresSession) throws -> [String: ProjectionRecord] {
        var out: [String: ProjectionRecord] = [:]
        for row in try s.query("SELECT name, version, generation, checkpoint FROM atlas.projections") {
            let (name, v, g, c) = try row.decode((String, Int32, Int32, Int64).self)
            out[name] = ProjectionRecord(version: Int(v), generation: Int(g), checkpoint: UInt64(c))
        }
        return out
    }

    /// A projection's row of `atlas.projections`.
    struct ProjectionRecord {
        var version: Int
        var generation: Int
        var checkpoint: UInt64
    }

    /// The active generation of each of this build's projections whose stored version is its own.
    func activeGenerations(_ records: [String: ProjectionRecord]) -> [String: Int] {
        var out: [String: Int] = [:]
        for p in projections {
            if let r = records[p.name], r.version == p.version { out[p.name] = r.generation }
        }
        return out
    }

    /// Locks the head for this transaction and returns it.
    func lockHead(_ s: PostgresSession) throws -> LogHead {
        let rows = try s.query("SELECT position, chain FROM atlas.head FOR UPDATE")
        guard let row = rows.first else { throw EventLogError(.notAStore, "\(url) has no row in atlas.head") }
        return try Self.decodeHead(row)
    }

    static func decodeHead(_ row: PostgresRow) throws -> LogHead {
        let (p, c) = try row.decode((Int64, ByteBuffer).self)
        guard let chain = ChainHash(bytes: Array(c.readableBytesView)) else {
            throw EventLogError(.corruptEvent, "atlas.head has a chain hash of \(c.readableBytes) bytes, not 32")
        }
        return LogHead(position: UInt64(p), chainHash: chain)
    }
}
