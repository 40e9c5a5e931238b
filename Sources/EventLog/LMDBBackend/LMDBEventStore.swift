import CanonicalJSON
import Foundation
import LMDB

/// The embedded event store: one LMDB environment directory.
///
/// One writer thread per process groups every pending append into one write transaction
/// (group commit); separate processes are serialized by LMDB's writer lock. Projections are
/// applied inside that transaction. Reads use short `MDB_NOTLS` read transactions.
// @unchecked Sendable: the mutable caches are guarded by `cacheLock` (the pending appends are a
// `GroupCommitQueue`); LMDB handles are used by the writer thread or in per-call read transactions.
package final class LMDBEventStore: EventStore, SubscriptionSource, @unchecked Sendable {
    /// Options for opening a store.
    package struct Options: Sendable {
        /// Create the store when the directory does not exist or is empty.
        package var create: Bool
        /// Commit durability.
        package var durability: Durability
        /// Open without write access.
        package var readOnly: Bool
        /// Projections maintained in every append transaction.
        package var projections: [any Projection]
        /// State tables (not derived from the log) the application uses.
        package var stateTables: [String]
        /// Initial map size in bytes; the map doubles on demand.
        package var initialMapSize: Int
        /// The most the map may grow to, in bytes.
        package var maxMapSize: Int
        /// The format a store created by this open is in: the newest (the default), or 1 for a
        /// copy of a format-1 store (replays keep their source's chain). An existing store keeps
        /// its own format.
        package var formatVersion: Int

        package init(
            create: Bool = false, durability: Durability = .durable, readOnly: Bool = false,
            projections: [any Projection] = [], stateTables: [String] = [],
            initialMapSize: Int = 64 << 20, maxMapSize: Int = 1 << 40, formatVersion: Int = LMDBEventStore.newestFormat
        ) {
            self.formatVersion = formatVersion
            self.create = create
            self.durability = durability
            self.readOnly = readOnly
            self.projections = projections
            self.stateTables = stateTables
            self.initialMapSize = initialMapSize
            self.maxMapSize = maxMapSize
        }
    }

    /// The newest store format this build reads, and the one it creates stores in.
    package static let newestFormat = StoreLayout.formatVersion

    /// The store's format (`meta.format_version`): how its events are chained (see
    /// ``ChainHash``).
    package let formatVersion: Int

    /// The store directory.
    package let path: String
    /// The options it was opened with.
    package let options: Options

    let env: Environment
    let events: RawDatabase
    let eventIDs: RawDatabase
    let tenantEvents: RawDatabase
    let meta: RawDatabase
    let projectionRecords: RawDatabase
    let consumerRecords: RawDatabase
    /// The state table of consumer leases; `nil` in a read-only store that has never had one.
    let consumerLeaseTable: RawDatabase?
    let projections: [any Projection]
    /// Each projection's ``Projection/consumedEventTypes``, read once.
    let projectionFilters: [Set<String>?]
    let stateHandles: [StoreTable: RawDatabase]

    /// Active generation and handles of each projection, refreshed when another process
    /// rebuilds one.
    let cacheLock = NSLock()
    var activeGenerations: [String: Int] = [:]
    var projectionHandles: [StoreTable: RawDatabase] = [:]

    let pending = GroupCommitQueue<PendingAppend>()

    /// Opens the store at `path`.
    ///
    /// - Throws: ``EventLogError`` with code `not_a_store` when the path does not exist (and
    ///   `create` is off), is not a directory, or holds something other than an Atlas store;
    ///   `newer_format` when the store was written by a newer format; `permission_denied` when
    ///   it cannot be opened for writing. Nothing is created or changed in those cases.
    package static func open(path: String, options: Options = .init()) throws -> LMDBEventStore {
        do {
            return try LMDBEventStore(path: path, options: options)
        } catch let e as LMDBError where e.code == LMDBError.lockFileReplaced || e.code == LMDBError.sharedAcrossPIDNamespaces {
            // Refused by the store's fences while opening (see `StoreFence`).
            throw EventLogError(.unsupportedSharing, "cannot open \(path): \(e.message)")
        }
    }

    /// `meta.format_version` as a number, or `nil` when absent or not a number.
    private static func formatVersion(_ env: Environment, _ meta: RawDatabase) throws -> Int? {
        try env.read { txn in
            try txn.get(meta, Array("format_version".utf8)).flatMap { Int(String(decoding: $0, as: UTF8.self)) }
        }
    }

    private init(path: String, options: Options) throws {
        guard (1...StoreLayout.formatVersion).contains(options.formatVersion) else {
            throw EventLogError(.invalidOptions, "store format \(options.formatVersion) is not one this build writes (1…\(StoreLayout.formatVersion))")
        }
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let exists = fm.fileExists(atPath: path, isDirectory: &isDir)
        var fresh = false
        if exists {
            guard isDir.boolValue else { throw EventLogError(.notAStore, "\(path) is not a directory, so not an Atlas store") }
            guard fm.isReadableFile(atPath: path) else { throw EventLogError(.permissionDenied, "\(path) is not readable") }
            if !fm.fileExists(atPath: path + "/data.mdb") {
                let contents = (try? fm.contentsOfDirectory(atPath: path)) ?? []
                guard options.create, contents.isEmpty || contents == ["lock.mdb"] else {
                    throw EventLogError(.notAStore, contents.isEmpty
                        ? "\(path) is an empty directory, not an Atlas store"
                        : "\(path) is not an Atlas store (no data.mdb)")
                }
                fresh = true
            }
        } else {
            guard options.create else { throw EventLogError(.notAStore, "no store at \(path)") }
            fresh = true
        }
        if !options.readOnly && exists && !fm.isWritableFile(atPath: path) {
            throw EventLogError(.permissionDenied, "\(path) is not writable")
        }
        if fresh && options.readOnly { throw EventLogError(.notAStore, "no store at \(path)") }

        let env: Environment
        do {
            env = try Environment.open(path: path, configuration: .init(
                mapSize: options.initialMapSize, maxMapSize: options.maxMapSize,
                maxDatabases: StoreLayout.maxDatabases, maxReaders: 1024,
                durability: options.durability == .durable ? .durable : .relaxed,
                readOnly: options.readOnly, createIfMissing: fresh, fileMode: 0o600,
                useLockFile: !options.readOnly || Self.lockFileUsable(path)))
        } catch {
            switch error.code {
            case EACCES, EPERM, EROFS, ELOOP: throw EventLogError(.permissionDenied, "cannot open \(path): \(error.message)")
            case LMDBError.sharedAcrossPIDNamespaces, LMDBError.lockFileReplaced:
                throw EventLogError(.unsupportedSharing, "cannot open \(path): \(error.message)")
            case LMDBError.invalid, LMDBError.versionMismatch:
                throw EventLogError(.notAStore, "\(path)/data.mdb is not an LMDB file of a supported version")
            default: throw EventLogError(.storage, "cannot open \(path): \(error)")
            }
        }
        self.env = env
        self.path = env.path
        self.options = options
        self.projections = options.projections
        self.projectionFilters = options.projections.map(\.consumedEventTypes)

        // Identify the store before writing anything.
        let metaDB: RawDatabase? = try env.openDatabase(StoreLayout.meta, create: false)
        if try metaDB == nil && !fresh && options.create && !options.readOnly && env.databaseNames().isEmpty {
            // An LMDB file with no databases at all: a creation that died before its first commit.
            fresh = true
        }
        // The format of a store that exists; a store created below is read back once created.
        var storedFormat: Int?
        if let metaDB {
            storedFormat = try Self.formatVersion(env, metaDB)
            guard let v = storedFormat, v >= 1 else {
                throw EventLogError(.notAStore, "\(path) has no Atlas format version")
            }
            guard v <= StoreLayout.formatVersion else {
                throw EventLogError(.newerFormat,
                    "\(path) has store format \(v); this build reads format \(StoreLayout.formatVersion) or older")
            }
        } else if !fresh {
            throw EventLogError(.notAStore, "\(path) holds an LMDB file that is not an Atlas store")
        }

        if fresh {
            // Create every database and the identity in one transaction: a process that dies
            // here leaves either nothing or a complete, empty store.
            let names = [StoreLayout.meta, StoreLayout.events, StoreLayout.eventIDs, StoreLayout.tenantEvents,
                         StoreLayout.projections, StoreLayout.consumers] + options.stateTables.map(StoreLayout.stateTable)
            _ = try env.createDatabases(names, key: RawBytes.self, value: RawBytes.self) { txn, dbs in
                let meta = dbs[0]
                guard try txn.get(meta, Array("format_version".utf8)) == nil else { return }  // created concurrently
                func put(_ k: String, _ v: String) throws { try txn.put(meta, Array(k.utf8), Array(v.utf8)) }
                try put("format_version", String(options.formatVersion))
                try put("store_id", EventID.generate().description)
                try put("created_at", Timestamp.now().description)
            }
        }

        let create = !options.readOnly
        func open(_ name: String) throws -> RawDatabase {
            guard let db: RawDatabase = try env.openDatabase(name, create: create) else {
                throw EventLogError(.notAStore, "\(path) lacks the \(name) database")
            }
            return db
        }
        meta = try open(StoreLayout.meta)
        // Created here, or by another process at the same time: its format as written.
        let format = try storedFormat ?? Self.formatVersion(env, meta)
        guard let format, (1...StoreLayout.formatVersion).contains(format) else {
            throw EventLogError(.notAStore, "\(path) has no Atlas format version this build reads")
        }
        formatVersion = format
        events = try open(StoreLayout.events)
        eventIDs = try open(StoreLayout.eventIDs)
        tenantEvents = try open(StoreLayout.tenantEvents)
        projectionRecords = try open(StoreLayout.projections)
        consumerRecords = try open(StoreLayout.consumers)
        consumerLeaseTable = try env.openDatabase(StoreLayout.stateTable(ConsumerLease.tableName), create: create)
        var states: [StoreTable: RawDatabase] = [:]
        for name in options.stateTables {
            states[.state(name)] = try open(StoreLayout.stateTable(name))
        }
        stateHandles = states

        try prepareProjections()
    }

    /// Whether a read-only open can share `lock.mdb` with other processes: it is a regular file
    /// (not a symlink) this process may read and write. Otherwise (read-only file system, a copy
    /// owned by someone else, no lock file) the store is opened without it, and nothing is created.
    static func lockFileUsable(_ path: String) -> Bool {
        let lock = path + "/lock.mdb"
        var st = stat()
        guard lstat(lock, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return false }
        return access(lock, R_OK | W_OK) == 0
    }

    /// The store directory.
    package var location: String { path }

    /// Whether the store was opened read-only.
    package var isReadOnly: Bool { options.readOnly }

    /// `false`: reads are of a memory-mapped local file.
    package var readsWaitForServer: Bool { false }

    /// Whether this open coordinates with other processes through `lock.mdb`; `false` for a
    /// read-only open of a copy or snapshot whose lock file cannot be used.
    package var usesLockFile: Bool { env.configuration.useLockFile }

    /// The store's id and creation time, from the `meta` database.
    package func metadata() throws -> [String: String] {
        try env.read { txn in
            var out: [String: String] = [:]
            try txn.withCursor(meta) { c in
                try c.forEach { k, v in
                    out[String(decoding: k, as: UTF8.self)] = String(decoding: v, as: UTF8.self)
                    return true
                }
            }
            return out
        }
    }

    /// Bytes the data file occupies, and the map size.
    package func sizes() -> (usedBytes: Int, mapSize: Int, fileBytes: Int) {
        let info = env.info()
        let attrs = try? FileManager.default.attributesOfItem(atPath: path + "/data.mdb")
        return (info.usedBytes, info.mapSize, (attrs?[.size] as? NSNumber)?.intValue ?? 0)
    }

    /// The id of the last committed write transaction: how many commits the store has seen.
    package var commitCount: Int { env.info().lastTransactionID }

    /// Flushes to disk (useful with ``Durability/relaxed``).
    package func flush() throws {
        do { try env.sync() } catch { throw EventLogError(.storage, "\(error)") }
    }
}
