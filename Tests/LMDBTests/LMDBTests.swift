import CLMDB
import Foundation
import LMDB
import Testing

/// A fresh temporary directory path (not created) under a fresh parent.
func tempStorePath(_ name: String = "env") -> String {
    var template = Array((NSTemporaryDirectory() + "/lmdbtests-XXXXXX").utf8CString)
    let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    return dir + "/" + name
}

func openEnv(_ path: String, mapSize: Int = 1 << 20, maxMapSize: Int = 64 << 20, readOnly: Bool = false) throws -> Environment {
    try Environment.open(path: path, configuration: .init(
        mapSize: mapSize, maxMapSize: maxMapSize, readOnly: readOnly, createIfMissing: !readOnly))
}

typealias BytesDB = Database<RawBytes, RawBytes>

func bytesDB(_ env: Environment, _ name: String = "t") throws -> BytesDB {
    try #require(try env.openDatabase(name, key: RawBytes.self, value: RawBytes.self))
}

struct Boom: Error {}

@Suite struct BasicTests {
    @Test func putGetAndAbsentKeyIsNil() throws {
        let env = try openEnv(tempStorePath())
        let db = try #require(try env.openDatabase("kv", key: UTF8String.self, value: UInt64BE.self))
        try env.writeSync { txn throws in
            try txn.put(db, "a", 1)
            try txn.put(db, "b", 2)
        }
        try env.read { txn throws in
            #expect(try txn.get(db, "a") == 1)
            #expect(try txn.get(db, "b") == 2)
            #expect(try txn.get(db, "missing") == nil)
            #expect(try txn.contains(db, "a"))
            #expect(try !txn.contains(db, "zzz"))
            #expect(try txn.count(db) == 2)
        }
        try env.writeSync { txn throws in
            #expect(try txn.delete(db, "a"))
            #expect(try !txn.delete(db, "a"))
        }
        try env.read { txn throws in #expect(try txn.get(db, "a") == nil) }
        // An absent database is nil when not created.
        #expect(try env.openDatabase("nope", key: RawBytes.self, value: RawBytes.self, create: false) == nil)
    }

    @Test func noOverwriteAndAppendOptions() throws {
        let env = try openEnv(tempStorePath())
        let db = try bytesDB(env)
        try env.writeSync { txn throws in try txn.put(db, [1], [1]) }
        #expect(throws: LMDBError.self) { try env.writeSync { txn throws in try txn.put(db, [1], [2], options: .noOverwrite) } }
        // An append out of order is refused (MDB_KEYEXIST), not silently misplaced.
        #expect(throws: LMDBError.self) { try env.writeSync { txn throws in try txn.put(db, [0], [2], options: .append) } }
        try env.read { txn throws in #expect(try txn.get(db, [1]) == [1]) }
    }

    /// `insertReserved` and `insertRaw` store only under an absent key, in one search, and
    /// hand back the value already there otherwise.
    @Test func insertsOnlyUnderAbsentKeys() throws {
        let env = try openEnv(tempStorePath())
        let db = try bytesDB(env)
        try env.writeSync { txn throws in
            var filled = 0
            let first = try [UInt8]([1]).withUnsafeBytes { k in
                try txn.insertReserved(db, k, size: 3, fill: { v in filled += 1; v.copyBytes(from: [7, 8, 9]) }, existing: { Array($0) })
            }
            #expect(first == nil && filled == 1)
            let second = try [UInt8]([1]).withUnsafeBytes { k in
                try txn.insertReserved(db, k, size: 5, fill: { _ in filled += 1 }, existing: { Array($0) })
            }
            #expect(second == [7, 8, 9] && filled == 1)
            let third = try [UInt8]([1]).withUnsafeBytes { k in
                try [UInt8]([4]).withUnsafeBytes { v in try txn.insertRaw(db, k, v) { Array($0) } }
            }
            #expect(third == [7, 8, 9])
            let fourth = try [UInt8]([2]).withUnsafeBytes { k in
                try [UInt8]([4]).withUnsafeBytes { v in try txn.insertRaw(db, k, v) { Array($0) } }
            }
            #expect(fourth == nil)
        }
        try env.read { txn throws in
            #expect(try txn.get(db, [1]) == [7, 8, 9])
            #expect(try txn.get(db, [2]) == [4])
        }
    }

    @Test func refusedAppendLeavesTheTransactionUsable() throws {
        let env = try openEnv(tempStorePath())
        let db = try bytesDB(env)
        try env.writeSync { txn throws in
            try txn.put(db, [5], [5], options: .append)
            do {
                try txn.put(db, [3], [3], options: .append)
                Issue.record("out-of-order append accepted")
            } catch let e as LMDBError {
                #expect(e.code == LMDBError.keyExists)
            }
            try txn.put(db, [3], [3])
            try txn.put(db, [9], [9], options: .append)
        }
        try env.read { txn throws in
            #expect(try txn.count(db) == 3)
            #expect(try txn.get(db, [3]) == [3])
        }
    }
}

@Suite struct CursorTests {
    /// Keys chosen around the 0xFF edge: a prefix ending in 0xFF cannot be incremented in place.
    static let keys: [[UInt8]] = [
        [0x00], [0x01], [0x01, 0x00], [0x01, 0xFF], [0x01, 0xFF, 0x00], [0x01, 0xFF, 0xFF],
        [0x02], [0x02, 0x01], [0xFF], [0xFF, 0x00], [0xFF, 0xFF], [0xFF, 0xFF, 0x01],
    ]

    func filled() throws -> (Environment, BytesDB) {
        let env = try openEnv(tempStorePath())
        let db = try bytesDB(env)
        try env.writeSync { txn throws in
            for k in Self.keys.shuffled() { try txn.put(db, k, k + [0xAA]) }
        }
        return (env, db)
    }

    func prefixScan(_ env: Environment, _ db: BytesDB, _ prefix: [UInt8], reverse: Bool) throws -> [[UInt8]] {
        try env.read { txn throws in
            try txn.withCursor(db) { c throws in
                var out: [[UInt8]] = []
                try c.forEachRaw(prefix: prefix, reverse: reverse) { e in
                    out.append(Array(e.key))
                    #expect(Array(e.value) == Array(e.key) + [0xAA])
                    return true
                }
                return out
            }
        }
    }

    @Test func forwardAndBackward() throws {
        let (env, db) = try filled()
        let sorted = Self.keys.sorted { $0.lexicographicallyPrecedes($1) }
        try env.read { txn throws in
            try txn.withCursor(db) { c throws in
                var fwd: [[UInt8]] = []
                try c.forEach { k, _ in fwd.append(k); return true }
                #expect(fwd == sorted)
                var back: [[UInt8]] = []
                try c.forEachReversed { k, _ in back.append(k); return true }
                #expect(back == sorted.reversed())
                // From a key that is absent: forward starts at the next, backward at the previous.
                var from: [[UInt8]] = []
                try c.forEach(from: [0x01, 0x80]) { k, _ in from.append(k); return from.count < 2 }
                #expect(from == [[0x01, 0xFF], [0x01, 0xFF, 0x00]])
                var rfrom: [[UInt8]] = []
                try c.forEachReversed(from: [0x01, 0x80]) { k, _ in rfrom.append(k); return rfrom.count < 2 }
                #expect(rfrom == [[0x01, 0x00], [0x01]])
                // Exact hit backward includes the key; beyond the end starts at the last.
                var exact: [[UInt8]] = []
                try c.forEachReversed(from: [0x02]) { k, _ in exact.append(k); return false }
                #expect(exact == [[0x02]])
                var beyond: [[UInt8]] = []
                try c.forEachReversed(from: [0xFF, 0xFF, 0xFF]) { k, _ in beyond.append(k); return false }
                #expect(beyond == [[0xFF, 0xFF, 0x01]])
                #expect(try c.first().map { Array($0.key) } == [0x00])
                #expect(try c.previous() == nil)
                #expect(try c.last().map { Array($0.key) } == [0xFF, 0xFF, 0x01])
                #expect(try c.next() == nil)
            }
        }
    }

    @Test(arguments: [
        [UInt8](), [0x01], [0x01, 0xFF], [0x01, 0xFF, 0xFF], [0xFF], [0xFF, 0xFF], [0x03], [0xFF, 0xFF, 0xFF],
    ])
    func prefixIteration(prefix: [UInt8]) throws {
        let (env, db) = try filled()
        let expected = Self.keys.filter { $0.starts(with: prefix) }.sorted { $0.lexicographicallyPrecedes($1) }
        #expect(try prefixScan(env, db, prefix, reverse: false) == expected)
        #expect(try prefixScan(env, db, prefix, reverse: true) == expected.reversed())
    }

    @Test func prefixIterationWhenPrefixRangeIsAtTheEnd() throws {
        // The upper bound of [0x01, 0xFF] is [0x02], which is absent: the reverse scan must
        // start at the last key instead of skipping the range.
        let env = try openEnv(tempStorePath())
        let db = try bytesDB(env)
        try env.writeSync { txn throws in
            for k: [UInt8] in [[0x00], [0x01, 0xFF, 0x01], [0x01, 0xFF, 0x02]] { try txn.put(db, k, []) }
        }
        try env.read { txn throws in
            try txn.withCursor(db) { c throws in
                var keys: [[UInt8]] = []
                try c.forEachRaw(prefix: [0x01, 0xFF], reverse: true) { keys.append(Array($0.key)); return true }
                #expect(keys == [[0x01, 0xFF, 0x02], [0x01, 0xFF, 0x01]])
            }
        }
    }
}

@Suite struct TransactionTests {
    @Test func nestedAbortKeepsOuterWrites() throws {
        let env = try openEnv(tempStorePath())
        let db = try bytesDB(env)
        try env.writeSync { txn throws in
            try txn.put(db, [1], [1])
            #expect(throws: Boom.self) {
                try txn.nested { child throws in
                    try child.put(db, [2], [2])
                    try child.put(db, [1], [9])
                    throw Boom()
                }
            }
            try txn.nested { child throws in try child.put(db, [3], [3]) }
            try txn.put(db, [4], [4])
        }
        try env.read { txn throws in
            #expect(try txn.get(db, [1]) == [1])
            #expect(try txn.get(db, [2]) == nil)
            #expect(try txn.get(db, [3]) == [3])
            #expect(try txn.get(db, [4]) == [4])
        }
    }

    @Test func throwingWriteLeavesNothing() async throws {
        let env = try openEnv(tempStorePath())
        let db = try bytesDB(env)
        try env.writeSync { txn throws in try txn.put(db, [0], [0]) }
        let before = env.info().lastTransactionID
        #expect(throws: Boom.self) {
            try env.writeSync { txn throws in
                for i in 1...100 { try txn.put(db, [UInt8(i)], [UInt8(i)]) }
                try txn.clear(db)
                throw Boom()
            }
        }
        await #expect(throws: Boom.self) {
            try await env.write { txn throws in
                try txn.put(db, [1], [1])
                throw Boom()
            }
        }
        try env.read { txn throws in
            #expect(try txn.count(db) == 1)
            #expect(try txn.get(db, [0]) == [0])
        }
        #expect(env.info().lastTransactionID == before)
    }

    @Test func transactionUsedAfterItsClosureThrows() throws {
        let env = try openEnv(tempStorePath())
        let db = try bytesDB(env)
        var leakedRead: ReadTransaction?
        var leakedWrite: WriteTransaction?
        var leakedCursor: Cursor<RawBytes, RawBytes>?
        try env.writeSync { txn throws in
            try txn.put(db, [1], [1])
            leakedWrite = txn
            try txn.withCursor(db) { leakedCursor = $0 }
        }
        try env.read { leakedRead = $0 }
        func isEnded(_ body: () throws -> Void) {
            do {
                try body()
                Issue.record("expected an error")
            } catch let e as LMDBError {
                #expect(e.code == LMDBError.transactionEnded)
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
        isEnded { _ = try leakedRead!.get(db, [1]) }
        isEnded { _ = try leakedWrite!.get(db, [1]) }
        isEnded { try leakedWrite!.put(db, [2], [2]) }
        isEnded { _ = try leakedWrite!.count(db) }
        isEnded { _ = try leakedCursor!.first() }
        try env.read { txn throws in #expect(try txn.get(db, [2]) == nil) }
    }

    @Test func asyncWritesAreSerialized() async throws {
        let env = try openEnv(tempStorePath())
        let db = try #require(try env.openDatabase("n", key: UInt64BE.self, value: UInt64BE.self))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    for _ in 0..<10 {
                        try await env.write { txn throws in
                            let n = try txn.get(db, 0) ?? 0
                            try txn.put(db, 0, n + 1)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        try env.read { txn throws in #expect(try txn.get(db, 0) == 200) }
    }
}

@Suite struct MapSizeTests {
    @Test func mapGrowsOnDemand() throws {
        let env = try openEnv(tempStorePath(), mapSize: 1 << 20, maxMapSize: 64 << 20)
        let db = try #require(try env.openDatabase("big", key: UInt64BE.self, value: RawBytes.self))
        let chunk = [UInt8](repeating: 0x5A, count: 64 << 10)
        // 10 MiB in one transaction (retried after each growth) and 10 MiB in many small ones.
        try env.writeSync { txn throws in
            for i in 0..<160 { try txn.put(db, UInt64(i), chunk) }
        }
        for i in 160..<320 {
            try env.writeSync { txn throws in try txn.put(db, UInt64(i), chunk) }
        }
        #expect(env.info().mapSize >= 20 << 20)
        #expect(env.info().mapSize <= 64 << 20)
        try env.read { txn throws in
            #expect(try txn.count(db) == 320)
            #expect(try txn.get(db, 0) == chunk)
            #expect(try txn.get(db, 319) == chunk)
        }
    }

    @Test func hittingMaxMapSizeIsAClearErrorAndTheStoreStaysReadable() throws {
        let path = tempStorePath()
        let env = try openEnv(path, mapSize: 1 << 20, maxMapSize: 4 << 20)
        let db = try #require(try env.openDatabase("big", key: UInt64BE.self, value: RawBytes.self))
        let chunk = [UInt8](repeating: 0x33, count: 256 << 10)
        var written = 0
        var failure: LMDBError?
        for i in 0..<64 {
            do {
                try env.writeSync { txn throws in try txn.put(db, UInt64(i), chunk) }
                written += 1
            } catch let e as LMDBError {
                failure = e
                break
            }
        }
        let error = try #require(failure)
        #expect(error.code == LMDBError.mapSizeLimit)
        #expect(error.description.contains("maximum"))
        #expect(written > 4)
        #expect(env.info().mapSize == 4 << 20)
        try env.read { txn throws in
            #expect(try txn.count(db) == written)
            for i in 0..<written { #expect(try txn.get(db, UInt64(i)) == chunk) }
        }
        // Small writes that fit still succeed; the failed one left nothing behind.
        try env.writeSync { txn throws in try txn.put(db, 10_000, [1]) }
        try env.read { txn throws in
            #expect(try txn.get(db, UInt64(written)) == nil)
            #expect(try txn.get(db, 10_000) == [1])
        }
    }
}

@Suite struct OpenTests {
    @Test func readOnlyOpenRefusesWrites() async throws {
        let path = tempStorePath()
        do {
            let env = try openEnv(path)
            let db = try bytesDB(env, "kv")
            try env.writeSync { txn throws in try txn.put(db, [1], [1]) }
        }
        let ro = try openEnv(path, readOnly: true)
        #expect(ro.configuration.readOnly)
        let db = try #require(try ro.openDatabase("kv", key: RawBytes.self, value: RawBytes.self))
        try ro.read { txn throws in #expect(try txn.get(db, [1]) == [1]) }
        do {
            try ro.writeSync { txn throws in try txn.put(db, [2], [2]) }
            Issue.record("write succeeded on a read-only environment")
        } catch let e as LMDBError {
            #expect(e.code == EACCES)
        }
        await #expect(throws: LMDBError.self) { try await ro.write { txn throws in try txn.put(db, [3], [3]) } }
        // A writable open while it is open read-only in this process is refused.
        #expect(throws: LMDBError.self) { _ = try openEnv(path) }
        // Creating a database is refused too; opening an absent one gives nil.
        #expect(try ro.openDatabase("other", key: RawBytes.self, value: RawBytes.self) == nil)
        try ro.read { txn throws in #expect(try txn.get(db, [2]) == nil) }
    }

    @Test func closedEnvironmentIsReleasedAndReopened() throws {
        let path = tempStorePath()
        weak var weakEnv: Environment?
        do {
            let env = try openEnv(path)
            weakEnv = env
            let db = try bytesDB(env)
            try env.writeSync { txn throws in try txn.put(db, [7], [7]) }
        }
        // The writer thread must not keep the environment alive.
        for _ in 0..<100 where weakEnv != nil { usleep(10_000) }
        #expect(weakEnv == nil)
        let again = try openEnv(path, readOnly: true)
        #expect(again.configuration.readOnly)
    }

    @Test func missingPathAndFileAreRefused() throws {
        let path = tempStorePath()
        #expect(throws: LMDBError.self) {
            _ = try Environment.open(path: path, configuration: .init(createIfMissing: false))
        }
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(FileManager.default.createFile(atPath: path, contents: Data("x".utf8)))
        do {
            _ = try Environment.open(path: path, configuration: .init(createIfMissing: true))
            Issue.record("opened a file")
        } catch {
            #expect(error.code == ENOTDIR)
        }
    }
}
