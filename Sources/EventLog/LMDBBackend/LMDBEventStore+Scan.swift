import Foundation
import LMDB

extension LMDBEventStore {
    /// Up to `limit` entries of `table` whose keys come after `key` (from the first entry when
    /// `nil`), in the order a cursor walks them, read in one short read transaction. Nothing is
    /// decoded, so damaged keys and values come back as stored; a verifier resumes with the
    /// greatest key it has seen.
    package func rawEntries(_ table: LogTable, after key: [UInt8]?, limit: Int) throws -> [RawTableEntry] {
        guard limit > 0 else { return [] }
        let db: RawDatabase
        switch table {
        case .events: db = events
        case .eventIDs: db = eventIDs
        case .tenantEvents: db = tenantEvents
        }
        return try mapErrorsSync {
            try env.read { txn in
                try txn.withCursor(db) { c in
                    var out: [RawTableEntry] = []
                    out.reserveCapacity(min(limit, 4096))
                    // The smallest key greater than `key` is `key` followed by a zero byte.
                    var e = try key.map { k in try (k + [0]).withUnsafeBytes { try c.seekRaw(atLeast: $0) } } ?? c.first()
                    while let entry = e, out.count < limit {
                        out.append(RawTableEntry(key: Array(entry.key), value: Array(entry.value)))
                        e = try c.next()
                    }
                    return out
                }
            }
        }
    }
}
