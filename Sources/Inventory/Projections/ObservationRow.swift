import Foundation

/// The value of an `observations` row (``ObservationsProjection``): entry number (8 bytes, BE)
/// ‖ up to ``depth`` run ids (16 bytes each), newest first.
///
/// The entry number is the log position of the event that made the row: it names the row in
/// the `by_last_runs` index (``LastRunsKey``) in 8 bytes, where the item's type and id would
/// not fit LMDB's key limit, and it is the same in a rebuild as when applied incrementally.
enum ObservationRow {
    /// Bytes of the entry number.
    static let entryBytes = 8
    /// Bytes of one run id.
    static let runBytes = 16
    /// Run ids kept per row: runs of one tenant + selection never overlap (the run lock), so at
    /// most one newer run than the latest completed one can be live.
    static let depth = 3
    /// The size of a row written for its first observation.
    static let firstSize = entryBytes + runBytes

    /// Whether `value` has this layout: an entry number and 1 to ``depth`` run ids.
    static func isValid(_ value: UnsafeRawBufferPointer) -> Bool {
        let runs = value.count - entryBytes
        return runs >= runBytes && runs % runBytes == 0 && runs / runBytes <= depth
    }

    /// Writes the first row of an item: `entry`, then `runID` alone.
    static func writeFirst(into v: UnsafeMutableRawBufferPointer, entry: UInt64, runID: UnsafeRawBufferPointer) {
        InventoryKeys.storeBigEndian(entry, to: v, at: 0)
        (v.baseAddress! + entryBytes).copyMemory(from: runID.baseAddress!, byteCount: runBytes)
    }

    static func entry(_ value: UnsafeRawBufferPointer) -> UInt64 { InventoryKeys.readUInt64(value, at: 0) }

    /// The number of run ids in a valid row.
    static func runCount(_ value: UnsafeRawBufferPointer) -> Int { (value.count - entryBytes) / runBytes }

    /// Run id `i` (0 = newest) of a valid row.
    static func run(_ value: UnsafeRawBufferPointer, _ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: value[(entryBytes + i * runBytes)..<(entryBytes + (i + 1) * runBytes)])
    }

    /// Whether run id `i` of a valid row is `runID`.
    static func run(_ value: UnsafeRawBufferPointer, _ i: Int, is runID: UnsafeRawBufferPointer) -> Bool {
        memcmp(value.baseAddress! + entryBytes + i * runBytes, runID.baseAddress!, runBytes) == 0
    }

    /// The run ids of a valid row, newest first.
    static func runs(_ value: UnsafeRawBufferPointer) -> [[UInt8]] {
        (0..<runCount(value)).map { Array(run(value, $0)) }
    }

    /// Rewrites a valid row in place for an observation by `runID`: the same entry, `runID`,
    /// then the older run ids but `runID`, newest first, at most ``depth`` in all.
    static func observe(_ value: inout [UInt8], runID: UnsafeRawBufferPointer) {
        withUnsafeTemporaryAllocation(byteCount: entryBytes + runBytes * depth, alignment: 8) { new in
            value.withUnsafeBytes { old in
                new.baseAddress!.copyMemory(from: old.baseAddress!, byteCount: entryBytes)
                (new.baseAddress! + entryBytes).copyMemory(from: runID.baseAddress!, byteCount: runBytes)
                var n = entryBytes + runBytes
                for i in 0..<runCount(old) where n < new.count && !run(old, i, is: runID) {
                    (new.baseAddress! + n).copyMemory(from: old.baseAddress! + entryBytes + i * runBytes, byteCount: runBytes)
                    n += runBytes
                }
                value.replaceSubrange(0..<value.count, with: UnsafeRawBufferPointer(rebasing: new[0..<n]))
            }
        }
    }
}
