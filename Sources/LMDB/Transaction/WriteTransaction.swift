import CLMDB

/// A read-write transaction, valid only inside the closure it is passed to, on the writer thread.
package final class WriteTransaction: ReadTransaction {
    /// Options for ``put(_:_:_:options:)``.
    package struct PutOptions: OptionSet, Sendable {
        package let rawValue: UInt32
        package init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Fail with `MDB_KEYEXIST` instead of overwriting.
        package static let noOverwrite = PutOptions(rawValue: UInt32(MDB_NOOVERWRITE))
        /// The key sorts after every key in the database: append without a search.
        package static let append = PutOptions(rawValue: UInt32(MDB_APPEND))
    }

    /// Stores `value` under `key`.
    package func put<K, V>(_ database: Database<K, V>, _ key: K.Value, _ value: V.Value, options: PutOptions = []) throws {
        try ensureValid()
        try K.withBytes(of: key) { keyBytes in
            try V.withBytes(of: value) { valueBytes in
                try putRaw(database, keyBytes, valueBytes, options: options)
            }
        }
    }

    /// Stores raw bytes under raw key bytes.
    package func putRaw<K, V>(
        _ database: Database<K, V>, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer,
        options: PutOptions = []
    ) throws {
        try ensureValid()
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try check(mdb_put(pointer, database.dbi, &k, &v, options.rawValue), "mdb_put \(database.name)")
    }

    /// Stores `value` under raw `key` only if the key is absent (`MDB_NOOVERWRITE`), in one
    /// search either way: returns `nil` when it stored the value, otherwise what `existing`
    /// returns for the value already there (valid only inside `existing`).
    package func insertRaw<K, V, R>(
        _ database: Database<K, V>, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer,
        existing: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R? {
        try ensureValid()
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        let rc = mdb_put(pointer, database.dbi, &k, &v, UInt32(MDB_NOOVERWRITE))
        if rc == MDB_KEYEXIST { return try existing(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)) }
        try check(rc, "mdb_put \(database.name)")
        return nil
    }

    /// Reserves `size` bytes under raw `key` only if the key is absent (`MDB_NOOVERWRITE |
    /// MDB_RESERVE`), in one search either way: when it reserved them, `fill` writes the value in
    /// place and this returns `nil`; otherwise it returns what `existing` returns for the value
    /// already there (valid only inside `existing`).
    package func insertReserved<K, V, R>(
        _ database: Database<K, V>, _ key: UnsafeRawBufferPointer, size: Int,
        fill: (UnsafeMutableRawBufferPointer) throws -> Void, existing: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R? {
        try ensureValid()
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: size, mv_data: nil)
        let rc = mdb_put(pointer, database.dbi, &k, &v, UInt32(MDB_NOOVERWRITE | MDB_RESERVE))
        if rc == MDB_KEYEXIST { return try existing(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)) }
        try check(rc, "mdb_put \(database.name)")
        try fill(UnsafeMutableRawBufferPointer(start: v.mv_data, count: size))
        return nil
    }

    /// Reserves `size` bytes under raw `key` and lets `body` fill them in place (`MDB_RESERVE`),
    /// saving a copy of large values.
    package func putReserved<K, V>(
        _ database: Database<K, V>, _ key: UnsafeRawBufferPointer, size: Int, options: PutOptions = [],
        _ body: (UnsafeMutableRawBufferPointer) throws -> Void
    ) throws {
        try ensureValid()
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: size, mv_data: nil)
        try check(mdb_put(pointer, database.dbi, &k, &v, options.rawValue | UInt32(MDB_RESERVE)), "mdb_put \(database.name)")
        try body(UnsafeMutableRawBufferPointer(start: v.mv_data, count: size))
    }

    /// Removes raw `key`; returns whether it was present.
    @discardableResult
    package func deleteRaw<K, V>(_ database: Database<K, V>, _ key: UnsafeRawBufferPointer) throws -> Bool {
        try ensureValid()
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        let rc = mdb_del(pointer, database.dbi, &k, nil)
        if rc == MDB_NOTFOUND { return false }
        try check(rc, "mdb_del \(database.name)")
        return true
    }

    /// Removes `key`; returns whether it was present.
    @discardableResult
    package func delete<K, V>(_ database: Database<K, V>, _ key: K.Value) throws -> Bool {
        try ensureValid()
        return try K.withBytes(of: key) { keyBytes in
            var k = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            let rc = mdb_del(pointer, database.dbi, &k, nil)
            if rc == MDB_NOTFOUND { return false }
            try check(rc, "mdb_del \(database.name)")
            return true
        }
    }

    /// Removes every entry of `database`, keeping the database itself.
    package func clear<K, V>(_ database: Database<K, V>) throws {
        try ensureValid()
        try check(mdb_drop(pointer, database.dbi, 0), "mdb_drop \(database.name)")
    }

    /// Runs `body` in a nested transaction: its writes are kept when it returns and discarded
    /// when it throws, without ending this transaction.
    package func nested<R>(_ body: (WriteTransaction) throws -> R) throws -> R {
        try ensureValid()
        var child: OpaquePointer?
        try check(mdb_txn_begin(mdb_txn_env(pointer), pointer, 0, &child), "mdb_txn_begin(nested)")
        let transaction = WriteTransaction(child!)
        do {
            let result = try body(transaction)
            transaction.invalidate()
            try check(mdb_txn_commit(child), "mdb_txn_commit(nested)")
            return result
        } catch {
            if transaction.isValid {
                transaction.invalidate()
                mdb_txn_abort(child)
            }
            throw error
        }
    }
}
