import CLMDB
import Foundation

/// The part of one of `data.mdb`'s two meta pages that adopting another process's map size
/// depends on, read from the file without LMDB.
///
/// LMDB 0.9 has no page checksums, and `mdb_env_set_mapsize(env, 0)` unmaps the file and maps
/// it again at the size the newest meta page records: a damaged size there (one flipped bit in
/// its top byte asks for 2^56 bytes) makes the new mapping fail and leaves the environment
/// pointing at unmapped memory, so the next read dies with SIGSEGV. Reading the size here first
/// lets ``Environment`` refuse a size no healthy store can hold.
///
/// Layout (LMDB 0.9, 64-bit): a 16-byte page header, then `MDB_meta`: magic (u32), version
/// (u32), address (u64), map size (u64), two 48-byte `MDB_db` records, last page (u64),
/// transaction id (u64); little-endian on the machines Atlas runs on.
struct MetaPage: Equatable {
    /// `MDB_MAGIC`.
    static let magic: UInt32 = 0xBEEF_C0DE
    static let headerSize = 16
    static let magicOffset = headerSize
    static let mapSizeOffset = headerSize + 16
    static let lastPageOffset = headerSize + 24 + 2 * 48
    static let transactionIDOffset = lastPageOffset + 8
    static let length = transactionIDOffset + 8

    /// The largest map size a healthy store records: 64 TiB, half of the 128 TiB a process can
    /// address on x86-64 and AArch64 Linux. A larger one cannot be mapped and is damage.
    static let largestMappable: UInt64 = 1 << 46

    var mapSize: UInt64
    var lastPage: UInt64
    var transactionID: UInt64

    /// Decodes a meta page's first ``length`` bytes; `nil` when its magic is not LMDB's.
    init?(_ bytes: [UInt8]) {
        guard bytes.count >= Self.length else { return nil }
        func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) } }
        let magic = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[Self.magicOffset + $1]) << (8 * UInt32($1)) }
        guard magic == Self.magic else { return nil }
        mapSize = u64(Self.mapSizeOffset)
        lastPage = u64(Self.lastPageOffset)
        transactionID = u64(Self.transactionIDOffset)
    }

    /// The meta page LMDB uses: of the two at pages 0 and 1, the valid one with the higher
    /// transaction id. `nil` when neither can be read.
    static func newest(dataFile path: String, pageSize: Int) -> MetaPage? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var pages: [MetaPage] = []
        for page in 0..<2 {
            var buffer = [UInt8](repeating: 0, count: length)
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, length, off_t(page * pageSize)) }
            if n == length, let meta = MetaPage(buffer) { pages.append(meta) }
        }
        return pages.max { $0.transactionID < $1.transactionID }
    }
}
