extension Environment {
    /// How durable each commit is.
    public enum Durability: Sendable, Hashable {
        /// Every commit is flushed to disk (data and meta page) before it returns. The default.
        case durable
        /// Omit the meta-page flush (`MDB_NOMETASYNC`): a system crash may undo the last
        /// commit, but never corrupts the store.
        case relaxed
    }

    /// Options for opening an environment.
    public struct Configuration: Sendable, Hashable {
        /// The initial map size in bytes; the map grows on demand up to `maxMapSize`.
        public var mapSize: Int
        /// The largest the map may grow to, in bytes.
        public var maxMapSize: Int
        /// How many named databases the environment may hold.
        public var maxDatabases: UInt32
        /// How many concurrent read transactions (across processes) are allowed.
        public var maxReaders: UInt32
        /// Commit durability.
        public var durability: Durability
        /// Open without write access; write transactions are refused.
        public var readOnly: Bool
        /// Create the directory and files when they do not exist.
        public var createIfMissing: Bool
        /// Coordinate with other processes through `lock.mdb`. Turned off (`MDB_NOLOCK`) only
        /// for read-only opens of copies and snapshots whose lock file cannot be used (read-only
        /// file system, no write permission, no lock file): nothing coordinates with a live
        /// writer then.
        public var useLockFile: Bool
        /// Permission bits for files LMDB creates (owner-only by default).
        public var fileMode: UInt32

        public init(
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
    public struct Info: Sendable, Hashable {
        /// The current map size in bytes.
        public var mapSize: Int
        /// Bytes in use: (last page number + 1) × page size.
        public var usedBytes: Int
        /// The page size in bytes.
        public var pageSize: Int
        /// Reader slots in use.
        public var readersInUse: Int
        /// The id of the last committed transaction.
        public var lastTransactionID: Int
    }
}
