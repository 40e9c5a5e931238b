import LMDB

/// The event ids a group commit adds, with their positions; written to `event_ids` once, in
/// id order, when the group's requests have all been applied.
///
/// Requests of a group carry ids made on several threads at once (a sync encodes its pages
/// in parallel), so one request's ids interleave with the next one's. Collected over the whole
/// group and sorted, nearly all sort after every stored id and are appended (`MDB_APPEND`)
/// through one cursor: no search per id, and index pages are left full.
///
/// Why a hand-written index instead of `Dictionary<EventID, …>`: profiling the writer thread
/// on `atlas-bench inventory --writer-only 3` (docs/benchmarks.md) put the dictionary's hashing
/// and growth at ~4.5 % of the writer's samples; this table, sized once for the group and
/// rolled back slot by slot, removed that share (9f5ebf1).
struct GroupEventIDs {
    /// The greatest id stored before the group; an id above it is new without a lookup.
    let greatestStored: EventID?
    /// Ids in the order they were added, with their positions and their slot in `table`.
    private var added: [(id: EventID, position: UInt64, slot: Int)] = []
    /// An open-addressing (linear probing) index of `added`: each slot holds an index into
    /// `added` plus one, or 0 when empty. A group adds tens of thousands of ids, each looked up
    /// once and added once; a `Dictionary` spent more time hashing and growing than the rest of
    /// the id bookkeeping together.
    private var table: [Int32]
    private var mask: Int

    /// - Parameter expected: how many ids the group may add (its events), to size the index.
    init(_ txn: ReadTransaction, _ eventIDs: RawDatabase, expected: Int = 0) throws {
        greatestStored = try txn.withCursor(eventIDs) { c in
            try c.last().flatMap { $0.key.count == 16 ? EventID(unchecked: $0.key) : nil }
        }
        var size = 64
        while size < 2 * expected { size *= 2 }
        table = [Int32](repeating: 0, count: size)
        mask = size - 1
        added.reserveCapacity(expected)
    }

    /// The slot of `id` in `table`, or the empty slot where it would go.
    private func slot(of id: EventID) -> (slot: Int, found: Int?) {
        var i = Int(truncatingIfNeeded: id.mixedBits) & mask
        while true {
            let entry = Int(table[i])
            if entry == 0 { return (i, nil) }
            if added[entry - 1].id == id { return (i, entry - 1) }
            i = (i + 1) & mask
        }
    }

    /// The position of `id` when the group added it, or when it was stored before the group.
    func position(of id: EventID, in txn: ReadTransaction, _ eventIDs: RawDatabase) throws -> UInt64? {
        if let found = slot(of: id).found { return added[found].position }
        guard let greatestStored, id <= greatestStored else { return nil }
        return try id.withUnsafeBytes { k in try txn.withRawValue(eventIDs, forRawKey: k) { try UInt64BE.decode($0) } }
    }

    /// Adds `id` (not added before) at `position`.
    mutating func add(_ id: EventID, at position: UInt64) {
        if 2 * (added.count + 1) > table.count { grow() }
        let (i, found) = slot(of: id)
        precondition(found == nil, "event id added twice to a group")
        added.append((id, position, i))
        table[i] = Int32(added.count)
    }

    /// Doubles the index and puts every id in again.
    private mutating func grow() {
        table = [Int32](repeating: 0, count: table.count * 2)
        mask = table.count - 1
        for n in added.indices {
            let i = slot(of: added[n].id).slot
            table[i] = Int32(n + 1)
            added[n].slot = i
        }
    }

    /// How many ids have been added: a mark to roll back to.
    var mark: Int { added.count }

    /// Forgets the ids added after `mark` (their request failed). Emptying their slots in the
    /// reverse order of adding leaves the index as it was at `mark`: under linear probing, an
    /// id's probe only passed slots that ids added before it already held.
    mutating func rollBack(to mark: Int) {
        for entry in added[mark...].reversed() { table[entry.slot] = 0 }
        added.removeSubrange(mark...)
    }

    /// Writes the added ids to `eventIDs` in id order: appended when above every stored id,
    /// put otherwise (an id made before others already stored: clock skew, a foreign id).
    func write(to txn: WriteTransaction, _ eventIDs: RawDatabase) throws {
        let sorted = added.sorted { $0.id < $1.id }
        var firstAbove = sorted.startIndex
        if let greatestStored {
            firstAbove = sorted.partitioningIndex { $0.id > greatestStored }
            for entry in sorted[..<firstAbove] {
                try entry.id.withUnsafeBytes { k in
                    try UInt64BE.withBytes(of: entry.position) { v in try txn.putRaw(eventIDs, k, v) }
                }
            }
        }
        guard firstAbove < sorted.endIndex else { return }
        try txn.withAppender(eventIDs) { appender in
            for entry in sorted[firstAbove...] {
                try entry.id.withUnsafeBytes { k in
                    try UInt64BE.withBytes(of: entry.position) { v in try appender.appendRaw(k, v) }
                }
            }
        }
    }
}

extension Array {
    /// The index of the first element of this array (partitioned by `belongs`: `false` then
    /// `true`) for which `belongs` holds, by binary search.
    fileprivate func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var (low, high) = (startIndex, endIndex)
        while low < high {
            let mid = low + (high - low) / 2
            if belongs(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
