/// Read access to tables in one consistent snapshot.
package protocol KeyValueReader {
    /// Calls `body` with the bytes stored under `key`, or returns `nil` when absent. The bytes
    /// are valid only inside `body`.
    func withValue<R>(_ table: StoreTable, _ key: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R?

    /// Visits entries whose key starts with `prefix` in key order (or reverse), beginning at
    /// `start` when given (forward: first key >= start), until `body` returns `false`.
    func scan(
        _ table: StoreTable, prefix: [UInt8], from start: [UInt8]?, reverse: Bool,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool
    ) throws

    /// The number of entries in `table`.
    func count(_ table: StoreTable) throws -> Int

    /// The event at `position` in the same snapshot, or `nil` beyond the head.
    func rawEvent(at position: UInt64) throws -> RawEvent?

    /// The values stored under `keys`, in their order (`nil` where absent). A server backend
    /// reads them with one query instead of a round trip each.
    func values(_ table: StoreTable, _ keys: [[UInt8]]) throws -> [[UInt8]?]

    /// The events at `positions`, in their order (`nil` beyond the head). A server backend reads
    /// them with one query instead of a round trip each.
    func rawEvents(at positions: [UInt64]) throws -> [RawEvent?]

    /// The store's clock at the start of the transaction: the database server's clock on a
    /// shared server. Leases and slots take their `now` from it, so writers on many hosts
    /// compare expiries against one clock.
    var storeTime: Timestamp { get }
}

extension KeyValueReader {
    /// The local wall clock: an embedded store's writers share one host's clock.
    package var storeTime: Timestamp { .now() }

    /// One lookup per key.
    package func values(_ table: StoreTable, _ keys: [[UInt8]]) throws -> [[UInt8]?] {
        try keys.map { try withValue(table, $0) { Array($0) } }
    }

    /// One read per position.
    package func rawEvents(at positions: [UInt64]) throws -> [RawEvent?] {
        try positions.map { try rawEvent(at: $0) }
    }

    /// The bytes stored under `key`, copied, or `nil`.
    package func get(_ table: StoreTable, _ key: [UInt8]) throws -> [UInt8]? {
        try withValue(table, key) { Array($0) }
    }

    /// Visits entries whose key starts with `prefix`, forward.
    package func scan(
        _ table: StoreTable, prefix: [UInt8],
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        try scan(table, prefix: prefix, from: nil, reverse: false, body)
    }
}

/// Write access to tables inside the log's write transaction.
package protocol KeyValueWriter: KeyValueReader {
    /// Stores `value` under `key`.
    func put(_ table: StoreTable, _ key: [UInt8], _ value: [UInt8]) throws
    /// Removes `key`; returns whether it was present.
    @discardableResult
    func delete(_ table: StoreTable, _ key: [UInt8]) throws -> Bool
    /// Changes the value under `key` in place: `body` gets the current value (`nil` when
    /// absent) and leaves the new one (`nil` removes the key). `key` is valid only during the
    /// call. `body` must not use the tables and must depend only on the value it gets: a backend
    /// may run it first as if the key were absent, and again with the value it then finds.
    /// Read-modify-write projections use this: a backend may find the key once and reuse the
    /// value's storage.
    func update(_ table: StoreTable, key: UnsafeRawBufferPointer, _ body: (inout [UInt8]?) throws -> Void) throws
    /// Writes a value under `key`: when the key is absent, `insert` writes the new value (of
    /// `size` bytes) in place; when present, `update` changes the current value as in
    /// ``update(_:key:_:)`` (`nil` removes the key). Exactly one of them runs, and neither may
    /// use the tables. For projections whose new rows have a known size: a backend may write
    /// them without making an array per row.
    func upsert(_ table: StoreTable, key: UnsafeRawBufferPointer, size: Int,
                insert: (UnsafeMutableRawBufferPointer) throws -> Void, update: (inout [UInt8]?) throws -> Void) throws
    /// Adds `n` to the counter `name` of the append being applied, which its caller gets in
    /// ``AppendResult/tallies``: for what a projection learns as it writes (rows it made new
    /// or changed) that the appender would otherwise read back. Ignored outside an append
    /// (rebuilds, state updates).
    func tally(_ name: StaticString, _ n: Int)
}

extension KeyValueWriter {
    package func tally(_ name: StaticString, _ n: Int) {}

    package func upsert(_ table: StoreTable, key: UnsafeRawBufferPointer, size: Int,
                       insert: (UnsafeMutableRawBufferPointer) throws -> Void, update: (inout [UInt8]?) throws -> Void) throws {
        let k = Array(key)
        var value = try withValue(table, k) { Array($0) }
        if value == nil {
            var new = [UInt8](repeating: 0, count: size)
            try new.withUnsafeMutableBytes { try insert($0) }
            try put(table, k, new)
            return
        }
        try update(&value)
        if let value { try put(table, k, value) } else { try delete(table, k) }
    }

    package func update(_ table: StoreTable, key: UnsafeRawBufferPointer, _ body: (inout [UInt8]?) throws -> Void) throws {
        let k = Array(key)
        var value = try withValue(table, k) { Array($0) }
        let found = value != nil
        try body(&value)
        if let value { try put(table, k, value) } else if found { try delete(table, k) }
    }
}
