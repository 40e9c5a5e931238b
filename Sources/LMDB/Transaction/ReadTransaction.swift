import CLMDB

/// A read-only view of the environment, valid only inside the closure it is passed to.
///
/// Transactions are not `Sendable`: they cannot leave the thread that runs the closure.
/// Using one after its closure returned throws ``LMDBError/transactionEnded``.
package class ReadTransaction {
    let pointer: OpaquePointer
    private(set) var isValid = true

    init(_ pointer: OpaquePointer) { self.pointer = pointer }

    func invalidate() { isValid = false }

    @inline(__always)
    func ensureValid() throws(LMDBError) {
        if !isValid {
            throw LMDBError(code: LMDBError.transactionEnded, operation: "transaction",
                            message: "used after its closure returned")
        }
    }

    func openDBI(_ name: String, create: Bool) throws -> MDB_dbi {
        try ensureValid()
        var dbi: MDB_dbi = 0
        try check(mdb_dbi_open(pointer, name, create ? UInt32(MDB_CREATE) : 0, &dbi), "mdb_dbi_open \(name)")
        return dbi
    }

    /// Calls `body` with the raw bytes stored under `key`, or returns `nil` when absent.
    /// The bytes point into the map and are valid only inside `body`.
    package func withValue<K, V, R>(
        _ database: Database<K, V>, forKey key: K.Value, _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R? {
        try K.withBytes(of: key) { keyBytes in try withRawValue(database, forRawKey: keyBytes, body) }
    }

    /// Calls `body` with the bytes stored under raw `key`, or returns `nil` when absent.
    package func withRawValue<K, V, R>(
        _ database: Database<K, V>, forRawKey key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R? {
        try ensureValid()
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val()
        let rc = mdb_get(pointer, database.dbi, &k, &v)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_get \(database.name)")
        return try body(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
    }

    /// The value stored under `key`, or `nil` when there is none.
    package func get<K, V>(_ database: Database<K, V>, _ key: K.Value) throws -> V.Value? {
        try withValue(database, forKey: key) { bytes in try V.decode(bytes) }
    }

    /// Whether `key` is present.
    package func contains<K, V>(_ database: Database<K, V>, _ key: K.Value) throws -> Bool {
        try withValue(database, forKey: key) { _ in true } ?? false
    }

    /// The number of entries in `database`.
    package func count<K, V>(_ database: Database<K, V>) throws -> Int {
        try ensureValid()
        var stat = MDB_stat()
        try check(mdb_stat(pointer, database.dbi, &stat), "mdb_stat \(database.name)")
        return stat.ms_entries
    }

    /// Opens a cursor over `database`, valid inside `body`.
    package func withCursor<K, V, R>(_ database: Database<K, V>, _ body: (Cursor<K, V>) throws -> R) throws -> R {
        try ensureValid()
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(pointer, database.dbi, &cursor), "mdb_cursor_open \(database.name)")
        let c = Cursor<K, V>(cursor!, name: database.name)
        defer {
            c.invalidate()
            mdb_cursor_close(cursor)
        }
        return try body(c)
    }
}
