import Foundation

/// A key of the `by_last_runs` index (``ObservationsProjection``): tenant ‖ 0 ‖ selection hash
/// (32 bytes) ‖ newest run id (16) ‖ the run before it (16; zeros when none) ‖ entry number
/// (8, BE; see ``ObservationRow``). The value is the item's policy type ‖ 0 ‖ external id.
///
/// One entry per `observations` row, grouped by the two runs of the selection that observed
/// the item last: what the latest completed run saw is one group, so `missing` seeks past it
/// and reads only the other rows (``InventoryQueries``).
struct LastRunsKey {
    static let hashBytes = 32
    static let runBytes = ObservationRow.runBytes
    static let entryBytes = 8
    /// The 16 zero bytes that stand for "no earlier run".
    static let noRun = [UInt8](repeating: 0, count: runBytes)

    /// tenant ‖ 0 ‖ selection hash: every key of the tenant + selection.
    static func selectionPrefix(_ tenant: String, _ selectionHash: [UInt8]) -> [UInt8] {
        InventoryKeys.tenantPrefix(tenant) + selectionHash
    }

    /// The whole key.
    static func key<N: Collection<UInt8>, P: Collection<UInt8>>(
        _ tenant: String, _ selectionHash: ArraySlice<UInt8>, newest: N, previous: P?, entry: UInt64
    ) -> [UInt8] {
        precondition(newest.count == runBytes && (previous?.count ?? runBytes) == runBytes)
        var k = [UInt8]()
        k.reserveCapacity(tenant.utf8.count + 1 + hashBytes + 2 * runBytes + entryBytes)
        k += tenant.utf8
        k.append(0)
        k += selectionHash
        k += newest
        if let previous { k += previous } else { k += noRun }
        InventoryKeys.appendBigEndian(entry, to: &k)
        return k
    }

    /// The newest run of a key under `prefix` (``selectionPrefix(_:_:)``).
    static func newest(_ key: UnsafeRawBufferPointer, prefix: Int) -> [UInt8] {
        Array(key[prefix..<(prefix + runBytes)])
    }

    /// The run before the newest of a key under `prefix`.
    static func previous(_ key: UnsafeRawBufferPointer, prefix: Int) -> [UInt8] {
        Array(key[(prefix + runBytes)..<(prefix + 2 * runBytes)])
    }

    /// Whether `key` is a whole key under a prefix of `prefix` bytes.
    static func isValid(_ key: UnsafeRawBufferPointer, prefix: Int) -> Bool {
        key.count == prefix + 2 * runBytes + entryBytes
    }

    /// The smallest byte string greater than every string starting with `bytes`, of the same
    /// length (`bytes` + 1 as a big-endian number), or `nil` when `bytes` are all 0xFF: where a
    /// scan resumes to skip a group.
    static func successor(_ bytes: [UInt8]) -> [UInt8]? {
        var b = bytes
        var i = b.count - 1
        while i >= 0 {
            if b[i] < 0xFF {
                b[i] += 1
                return b
            }
            b[i] = 0
            i -= 1
        }
        return nil
    }
}
