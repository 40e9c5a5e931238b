import CLMDB

/// Appends entries in ascending key order through one cursor (`MDB_APPEND`), valid only inside
/// the closure it is passed to.
///
/// After its first append the cursor stays on the database's last leaf page, so each further
/// append skips the search from the root, and full pages are left full instead of split in
/// half. A key that does not sort after every key in the database is refused with
/// `MDB_KEYEXIST` (``LMDBError/keyExists``), and nothing is stored.
package struct Appender<K: ByteCodec, V: ByteCodec> {
    let cursor: Cursor<K, V>

    /// Appends raw `value` under raw `key`.
    package func appendRaw(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws {
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try put(key, &v, MDB_APPEND)
    }

    /// Appends `size` bytes under raw `key` and lets `body` fill them in place (`MDB_RESERVE`).
    package func appendReserved(
        _ key: UnsafeRawBufferPointer, size: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> Void
    ) throws {
        var v = MDB_val(mv_size: size, mv_data: nil)
        try put(key, &v, MDB_APPEND | MDB_RESERVE)
        try body(UnsafeMutableRawBufferPointer(start: v.mv_data, count: size))
    }

    private func put(_ key: UnsafeRawBufferPointer, _ value: inout MDB_val, _ flags: Int32) throws {
        try cursor.ensureValid()
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        try check(mdb_cursor_put(cursor.pointer, &k, &value, UInt32(flags)), "mdb_cursor_put(append) \(cursor.name)")
    }
}

extension WriteTransaction {
    /// Opens an ``Appender`` on `database`, valid inside `body`.
    ///
    /// Do not begin a nested transaction inside `body`: LMDB forbids using a parent's cursor
    /// while a child transaction is open.
    package func withAppender<K, V, R>(_ database: Database<K, V>, _ body: (Appender<K, V>) throws -> R) throws -> R {
        try withCursor(database) { try body(Appender(cursor: $0)) }
    }
}
