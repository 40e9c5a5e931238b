import CLMDB

/// A position in a database, valid only inside the closure it is passed to.
///
/// Moves return the entry they land on as raw bytes (valid until the next move) or `nil` at
/// either end. The `forEach` helpers iterate forward or backward from a key or within a prefix.
package final class Cursor<K: ByteCodec, V: ByteCodec> {
    /// An entry's raw bytes; they point into the map and are valid until the cursor moves.
    package typealias RawEntry = (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)

    let pointer: OpaquePointer
    let name: String
    private var isValid = true

    init(_ pointer: OpaquePointer, name: String) {
        self.pointer = pointer
        self.name = name
    }

    func invalidate() { isValid = false }

    func ensureValid() throws(LMDBError) {
        guard isValid else {
            throw LMDBError(code: LMDBError.transactionEnded, operation: "cursor \(name)", message: "used after its closure returned")
        }
    }

    private func move(_ op: MDB_cursor_op, key: UnsafeRawBufferPointer? = nil) throws -> RawEntry? {
        try ensureValid()
        // LMDB rejects an empty key (MDB_BAD_VALSIZE); every key is >= the empty key.
        if op == MDB_SET_RANGE, let key, key.isEmpty { return try move(MDB_FIRST) }
        var k = MDB_val()
        if let key { k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress)) }
        var v = MDB_val()
        let rc = mdb_cursor_get(pointer, &k, &v, op)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_cursor_get \(name)")
        return (UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size),
                UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
    }

    /// Moves to the first entry.
    package func first() throws -> RawEntry? { try move(MDB_FIRST) }
    /// Moves to the last entry.
    package func last() throws -> RawEntry? { try move(MDB_LAST) }
    /// Moves to the next entry.
    package func next() throws -> RawEntry? { try move(MDB_NEXT) }
    /// Moves to the previous entry.
    package func previous() throws -> RawEntry? { try move(MDB_PREV) }

    /// Moves to the first entry whose key is greater than or equal to `key`.
    package func seek(atLeast key: K.Value) throws -> RawEntry? {
        try K.withBytes(of: key) { try move(MDB_SET_RANGE, key: $0) }
    }

    /// Moves to the first entry whose key is greater than or equal to raw `key`.
    package func seekRaw(atLeast key: UnsafeRawBufferPointer) throws -> RawEntry? {
        try move(MDB_SET_RANGE, key: key)
    }

    /// Moves to the last entry whose key is less than or equal to `key`.
    package func seek(atMost key: K.Value) throws -> RawEntry? {
        try K.withBytes(of: key) { bytes in
            if let e = try move(MDB_SET_RANGE, key: bytes) {
                if e.key.elementsEqual(bytes) { return e }
                return try move(MDB_PREV)
            }
            return try move(MDB_LAST)
        }
    }

    /// Visits decoded entries in key order, starting at `start` (or the first key), until
    /// `body` returns `false`.
    package func forEach(from start: K.Value? = nil, _ body: (K.Value, V.Value) throws -> Bool) throws {
        var e = try start.map { try seek(atLeast: $0) } ?? first()
        while let entry = e {
            if try !body(try K.decode(entry.key), try V.decode(entry.value)) { return }
            e = try next()
        }
    }

    /// Visits decoded entries in reverse key order, starting at the last key `<= start`
    /// (or the last key), until `body` returns `false`.
    package func forEachReversed(from start: K.Value? = nil, _ body: (K.Value, V.Value) throws -> Bool) throws {
        var e = try start.map { try seek(atMost: $0) } ?? last()
        while let entry = e {
            if try !body(try K.decode(entry.key), try V.decode(entry.value)) { return }
            e = try previous()
        }
    }

    /// Visits raw entries whose key starts with `prefix`, in key order (or reverse), until
    /// `body` returns `false`.
    package func forEachRaw(prefix: [UInt8], reverse: Bool = false, _ body: (RawEntry) throws -> Bool) throws {
        if !reverse {
            // LMDB rejects an empty key for MDB_SET_RANGE: an empty prefix starts at the first entry.
            var e = prefix.isEmpty ? try first() : try prefix.withUnsafeBytes { try move(MDB_SET_RANGE, key: $0) }
            while let entry = e, entry.key.starts(with: prefix) {
                if try !body(entry) { return }
                e = try next()
            }
        } else {
            // Position after the prefix range, then step back.
            var upper = prefix
            var e: RawEntry?
            while let lastByte = upper.last, lastByte == 0xFF { upper.removeLast() }
            if upper.isEmpty {
                e = try last()
            } else {
                upper[upper.count - 1] += 1
                e = try upper.withUnsafeBytes { try move(MDB_SET_RANGE, key: $0) }
                e = e == nil ? try last() : try previous()
            }
            while let entry = e, entry.key.starts(with: prefix) {
                if try !body(entry) { return }
                e = try previous()
            }
        }
    }
}
