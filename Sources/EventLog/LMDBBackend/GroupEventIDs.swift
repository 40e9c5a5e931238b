import LMDB

/// The event ids a group commit adds, with their positions; written to `event_ids` once, in
/// id order, when the group's requests have all been applied.
///
/// Requests of a group carry ids made on several threads at once (a sync encodes its pages
/// in parallel), so one request's ids interleave with the next one's. Collected over the whole
/// group and sorted, nearly all sort after every stored id and are appended (`MDB_APPEND`)
/// through one cursor: no search per id, and index pages are left full.
struct GroupEventIDs {
    /// The greatest id stored before the group; an id above it is new without a lookup.
    let greatestStored: EventID?
    private var positions: [EventID: UInt64] = [:]
    /// Ids in the order they were added, with their positions, for rolling a request back.
    private var added: [(id: EventID, position: UInt64)] = []

    init(_ txn: ReadTransaction, _ eventIDs: RawDatabase) throws {
        greatestStored = try txn.withCursor(eventIDs) { c in
            try c.last().flatMap { $0.key.count == 16 ? EventID(unchecked: $0.key) : nil }
        }
    }

    /// The position of `id` when the group added it, or when it was stored before the group.
    func position(of id: EventID, in txn: ReadTransaction, _ eventIDs: RawDatabase) throws -> UInt64? {
        if let p = positions[id] { return p }
        guard let greatestStored, id <= greatestStored else { return nil }
        return try id.withUnsafeBytes { k in try txn.withRawValue(eventIDs, forRawKey: k) { try UInt64BE.decode($0) } }
    }

    mutating func add(_ id: EventID, at position: UInt64) {
        positions[id] = position
        added.append((id, position))
    }

    /// How many ids have been added: a mark to roll back to.
    var mark: Int { added.count }

    /// Forgets the ids added after `mark` (their request failed).
    mutating func rollBack(to mark: Int) {
        for (id, _) in added[mark...] { positions[id] = nil }
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
