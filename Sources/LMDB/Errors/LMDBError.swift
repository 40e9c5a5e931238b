import CLMDB

/// An error reported by LMDB or by this wrapper, carrying the LMDB result code.
package struct LMDBError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The LMDB (or errno) result code.
    package let code: Int32
    /// What was being done, for example `mdb_put` or `open /var/lib/atlas`.
    package let operation: String
    /// A human-readable explanation.
    package let message: String

    package init(code: Int32, operation: String, message: String? = nil) {
        self.code = code
        self.operation = operation
        self.message = message ?? String(cString: mdb_strerror(code))
    }

    package var description: String { "\(operation): \(message) (code \(code))" }

    /// Key/data pair not found (`MDB_NOTFOUND`); the typed API turns this into `nil`.
    package static let notFound = MDB_NOTFOUND
    /// The key exists (`MDB_KEYEXIST`): with `.noOverwrite`, or `.append` of a key that does
    /// not sort after the last one. The transaction stays usable.
    package static let keyExists = MDB_KEYEXIST
    /// The environment's map is full (`MDB_MAP_FULL`).
    package static let mapFull = MDB_MAP_FULL
    /// Another process grew the map (`MDB_MAP_RESIZED`).
    package static let mapResized = MDB_MAP_RESIZED
    /// A value is too large or a key is too long (`MDB_BAD_VALSIZE`).
    package static let badValueSize = MDB_BAD_VALSIZE
    /// The file is not an LMDB file (`MDB_INVALID`).
    package static let invalid = MDB_INVALID
    /// The environment version does not match (`MDB_VERSION_MISMATCH`).
    package static let versionMismatch = MDB_VERSION_MISMATCH
    /// Too many named databases (`MDB_DBS_FULL`).
    package static let databasesFull = MDB_DBS_FULL
    /// The reader table is full (`MDB_READERS_FULL`).
    package static let readersFull = MDB_READERS_FULL
    /// A transaction was used after it ended; a programming error reported as an error.
    package static let transactionEnded: Int32 = -40_001
    /// A key or value could not be decoded by its codec.
    package static let decodingFailed: Int32 = -40_002
    /// The map reached its configured maximum size and cannot grow.
    package static let mapSizeLimit: Int32 = -40_003
    /// `lock.mdb` was removed or replaced while the environment was open, or another process
    /// committed through a different `lock.mdb`: LMDB's locks no longer coordinate the
    /// writers, so this one stops writing.
    package static let lockFileReplaced: Int32 = -40_004
    /// A process in another PID namespace holds the environment; LMDB's lock table identifies
    /// processes by PID and cannot coordinate across namespaces.
    package static let sharedAcrossPIDNamespaces: Int32 = -40_005
}

@inline(__always)
func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws(LMDBError) {
    if rc != 0 { throw LMDBError(code: rc, operation: operation()) }
}
