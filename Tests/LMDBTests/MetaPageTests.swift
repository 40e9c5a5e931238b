import CLMDB
import Foundation
import LMDB
import Testing

/// A damaged map size in `data.mdb`'s newest meta page is refused on open with an error naming
/// it; LMDB would otherwise unmap the file trying to adopt it and the next read would crash
/// (found by Tools/hardening, storage mutation: a flipped bit in byte 39).
@Suite struct MetaPageTests {
    /// Writes a few transactions and returns the file offset of each meta page's map size, the
    /// newest meta page's first.
    static func makeEnvironment(_ path: String) throws -> [Int] {
        let env = try openEnv(path)
        let db = try bytesDB(env)
        for i: UInt8 in 0..<5 { try env.writeSync { txn in try txn.put(db, [i], [UInt8](repeating: i, count: 100)) } }
        let txnid = env.info().lastTransactionID
        let pageSize = env.info().pageSize
        // LMDB writes transaction n's meta into page n % 2.
        let newest = (txnid % 2) * pageSize, older = pageSize - newest
        return [newest + 32, older + 32]
    }

    static func flip(_ path: String, at offset: Int, bit: UInt8) throws {
        let handle = try #require(FileHandle(forUpdatingAtPath: path + "/data.mdb"))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: [byte ^ (1 << bit)])
    }

    @Test(arguments: [UInt8(0), 3, 7])
    func aMapSizeNoProcessCanMapIsRefusedOnOpen(bit: UInt8) throws {
        let path = tempStorePath()
        let offsets = try Self.makeEnvironment(path)
        // The top byte of the newest meta page's map size (bytes 32..<40 of the page).
        try Self.flip(path, at: offsets[0] + 7, bit: bit)
        for readOnly in [true, false] {
            do {
                let env = try openEnv(path, readOnly: readOnly)
                let db = try bytesDB(env)
                _ = try env.read { txn in try txn.count(db) }
                Issue.record("a meta page asking for a map of 2^\(56 + Int(bit)) bytes opened (readOnly \(readOnly))")
            } catch let e as LMDBError {
                #expect(e.code == MDB_CORRUPTED, "\(e)")
                // The 1 MiB map the environment was made with, plus the flipped bit.
                let recorded = (UInt64(1) << (56 + UInt64(bit))) + (1 << 20)
                #expect(e.message.contains("newest meta page") && e.message.contains("map size of \(recorded) bytes, more than any process can map"),
                        "\(e.message)")
            }
        }
    }

    @Test func theOlderMetaPageIsNotConsulted() throws {
        let path = tempStorePath()
        let offsets = try Self.makeEnvironment(path)
        try Self.flip(path, at: offsets[1] + 7, bit: 0)
        let env = try openEnv(path, readOnly: true)
        let db = try bytesDB(env)
        #expect(try env.read { txn in try txn.count(db) } == 5)
    }
}
