import CLMDB

/// Appends entries in ascending key order through one cursor (`MDB_APPEND`), valid only inside
/// the closure it is passed to.
///
/// After its first append the cursor stays on the database's last leaf page, so each further
/// append skips the search from the root, and full pages are left full instead of split in
/// half. A key that does not sort after every key in the database is refused with
/// `MDB_KEYEXIST` (``LMDBError/keyExists``), and nothing is stored.
public final class Appender<K: ByteCodec, V: ByteCodec> {
    let pointer: OpaquePointer
    let name: String
    private var isValid = true

    init(_ pointer: OpaquePointer, name: String) {
        self.pointer = pointer
        self.name = name
    }

    func invalidate() { isValid = false }

    /// Appends raw `value` under raw `key`.
    public func appendRaw(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws {
        try ensureValid()
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try check(mdb_cursor_put(pointer, &k, &v, UInt32(MDB_APPEND)), "mdb_cursor_put(append) \(name)")
    }

    /// Appends `size` bytes under raw `key` and lets `body` fill them in place (`MDB_RESERVE`).
    public func appendReserved(
        _ key: UnsafeRawBufferPointer, size: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> Void
    ) throws {
        try ensureValid()
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: size, mv_data: nil)
        try check(mdb_cursor_put(pointer, &k, &v, UInt32(MDB_APPEND | MDB_RESERVE)), "mdb_cursor_put(append) \(name)")
        try body(UnsafeMutableRawBufferPointer(start: v.mv_data, count: size))
    }

    private func ensureValid() throws {
        guard isValid else {
            throw LMDBError(code: LMDBError.transactionEnded, operation: "appender \(name)", message: "used after its closure returned")
        }
    }
}

extension WriteTransaction {
    /// Opens an ``Appender`` on `database`, valid inside `body`.
    ///
    /// Do not begin a nested transaction inside `body`: LMDB forbids using a parent's cursor
    /// while a child transaction is open.
    public func withAppender<K, V, R>(_ database: Database<K, V>, _ body: (Appender<K, V>) throws -> R) throws -> R {
        try ensureValid()
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(pointer, database.dbi, &cursor), "mdb_cursor_open \(database.name)")
        let appender = Appender<K, V>(cursor!, name: database.name)
        defer {
            appender.invalidate()
            mdb_cursor_close(cursor)
        }
        return try body(appender)
    }
}
