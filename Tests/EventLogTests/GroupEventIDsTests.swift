import Foundation
import LMDB
import Testing
@testable import EventLog

/// The group's id index: ids added are found with their positions, ids above the stored ones
/// are new, the index grows past its expected size, and a rollback forgets exactly the ids
/// added after its mark.
@Suite struct GroupEventIDsTests {
    @Test func addFindGrowAndRollBack() throws {
        let path = tempPath()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var configuration = Environment.Configuration(maxDatabases: 4)
        configuration.createIfMissing = true
        let env = try Environment.open(path: path, configuration: configuration)
        let db = try #require(try env.openDatabase("event_ids", key: RawBytes.self, value: RawBytes.self))
        let stored = EventID.generate()
        try env.writeSync { txn in
            try stored.withUnsafeBytes { k in try UInt64BE.withBytes(of: 1) { v in try txn.putRaw(db, k, v) } }
        }
        try env.read { txn in
            // Ids that differ in two bytes only (below the stored one), and ids made now (above it).
            let ids = (0..<300).map { EventID(bytes: [0x01] + [UInt8](repeating: 0, count: 7) + [UInt8(truncatingIfNeeded: $0 >> 8), UInt8($0 & 0xFF)] + [UInt8](repeating: 7, count: 6))! }
                + (0..<700).map { _ in EventID.generate() }
            var group = try GroupEventIDs(txn, db, expected: 10)  // grows several times
            #expect(group.greatestStored == stored)
            for (i, id) in ids.enumerated() {
                #expect(try group.position(of: id, in: txn, db) == nil)
                group.add(id, at: UInt64(i + 2))
            }
            #expect(try group.position(of: stored, in: txn, db) == 1)
            for (i, id) in ids.enumerated() { #expect(try group.position(of: id, in: txn, db) == UInt64(i + 2)) }
            group.rollBack(to: 400)
            #expect(group.mark == 400)
            for (i, id) in ids.enumerated() {
                #expect(try group.position(of: id, in: txn, db) == (i < 400 ? UInt64(i + 2) : nil))
            }
            // Added again after the rollback, at other positions.
            for (i, id) in ids[400...].enumerated() { group.add(id, at: UInt64(5000 + i)) }
            for (i, id) in ids[400...].enumerated() { #expect(try group.position(of: id, in: txn, db) == UInt64(5000 + i)) }
            #expect(try group.position(of: EventID.generate(), in: txn, db) == nil)
        }
    }
}
