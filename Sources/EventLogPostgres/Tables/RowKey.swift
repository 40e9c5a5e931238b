import Foundation

/// A row's key in ``OverlayTables``: hashed a block at a time and compared with `memcmp`.
///
/// Why not `[UInt8]` as the dictionary key: an array of bytes hashes one byte per
/// `Hasher.combine` call and sorts with `lexicographicallyPrecedes`, a byte per step. In a
/// profile of `atlas-bench postgres` (200,000-item fresh ingest, `perf record -a`), hashing
/// keys, finding them and sorting them took about 13 % of all samples, some 40 % of the writer
/// thread's; with this key they no longer stand out (the writer thread's share of the samples
/// fell from 33 % to 24–31 %, together with the other changes made beside it).
struct RowKey: Hashable {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = Array(bytes) }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    static func == (a: RowKey, b: RowKey) -> Bool {
        a.bytes.count == b.bytes.count && compare(a.bytes, b.bytes) == 0
    }

    /// Byte order, as PostgreSQL orders `bytea`.
    static func precedes(_ a: [UInt8], _ b: [UInt8]) -> Bool { compare(a, b) < 0 }

    static func compare(_ a: [UInt8], _ b: [UInt8]) -> Int32 {
        a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in
                let n = min(x.count, y.count)
                let c = n == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, n)
                if c != 0 { return c }
                return x.count < y.count ? -1 : (x.count > y.count ? 1 : 0)
            }
        }
    }
}
