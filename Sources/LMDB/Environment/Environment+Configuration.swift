extension Environment {
    /// How durable each commit is.
    package enum Durability: Sendable, Hashable {
        /// Every commit is flushed to disk (data and meta page) before it returns. The default.
        case durable
        /// Omit the meta-page flush (`MDB_NOMETASYNC`): a system crash may undo the last
        /// commit, but never corrupts the store.
        case relaxed
    }

    /// Options for opening an environment.
    package struct Configuration: Sendable, Hashable {
        /// The initial map size in bytes; the map grows on demand up to `maxMapSize`.
        package var mapSize: Int
        /// The largest the map may grow to, in bytes.
        package var maxMapSize: Int
        /// How many named databases the environment may hold.
        package var maxDatabases: UInt32
        /// How many concurrent read transactions (across processes) are allowed.
        package var maxReaders: UInt32
        /// Commit durability.
        package var durability: Durability
        /// Open without write access; write transactions are refused.
        package var readOnly: Bool
        /// Create the directory and files when they do not exist.
        package var createIfMissing: Bool
        /// Coordinate with other processes through `lock.mdb`. Turned off (`MDB_NOLOCK`) only
        /// for read-only opens of copies and snapshots whose lock file cannot be used (read-only
        /// file system, no write permission, no lock file): nothing coordinates with a live
        /// writer then.
        package var useLockFile: Bool
        /// Permission bits for files LMDB creates (owner-only by default).
        package var fileMode: UInt32

        package init(
            mapSize: Int = 64 << 20,
            maxMapSize: Int = 1 << 40,
            maxDatabases: UInt32 = 64,
            maxReaders: UInt32 = 512,
            durability: Durability = .durable,
            readOnly: Bool = false,
            createIfMissing: Bool = false,
            fileMode: UInt32 = 0o600,
            useLockFile: Bool = true
        ) {
            self.useLockFile = useLockFile
            self.mapSize = mapSize
            self.maxMapSize = maxMapSize
            self.maxDatabases = maxDatabases
            self.maxReaders = maxReaders
            self.durability = durability
            self.readOnly = readOnly
            self.createIfMissing = createIfMissing
            self.fileMode = fileMode
        }
    }

    /// A snapshot of the environment's size figures.
    package struct Info: Sendable, Hashable {
        /// The current map size in bytes.
        package var mapSize: Int
        /// Bytes in use: (last page number + 1) × page size.
        package var usedBytes: Int
        /// The page size in bytes.
        package var pageSize: Int
        /// Reader slots in use.
        package var readersInUse: Int
        /// The id of the last committed transaction.
        package var lastTransactionID: Int
    }
}
