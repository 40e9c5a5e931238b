import CanonicalJSON
import EventLog
import Foundation
import Inventory
import ReplayKit
import Testing

/// `atlas-replay copy`: the destination gets the source's log byte for byte, with projections,
/// and resumes a partial copy; a destination that is not a prefix of the source is refused.
@Suite struct CopyTests {
    /// Every entry of the log's own tables.
    static func entries(_ store: LMDBEventStore) throws -> [LogTable: [RawTableEntry]] {
        var out: [LogTable: [RawTableEntry]] = [:]
        for table in LogTable.allCases {
            var all: [RawTableEntry] = []
            while true {
                let batch = try store.rawEntries(table, after: all.last?.key, limit: 1000)
                if batch.isEmpty { break }
                all += batch
            }
            out[table] = all
        }
        return out
    }

    /// Checks that `copy` holds `source`'s log and projections and verifies.
    static func expectSame(_ source: String, _ copy: String) async throws {
        let a = try openStore(source), b = try openStore(copy)
        #expect(try b.head() == a.head())
        #expect(try entries(b) == entries(a))
        #expect(try ProjectionDigest.atHead(b, projections: InventoryProjections.all).digests
            == ProjectionDigest.atHead(a, projections: InventoryProjections.all).digests)
        let verify = try await runTool(["verify", "--store", copy])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
    }

    @Test func copiesAWholeLog() async throws {
        let dir = TempDir()
        let head = try await makeStore(dir.store, runs: 5, items: 15)
        let copy = dir.path + "/copy"
        let r = try await runTool(["copy", "--store", dir.store, "--to", copy, "--chunk", "37"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "copied \(head.position) events; head \(head.position) chain \(head.chainHash.hex)\n")
        try await Self.expectSame(dir.store, copy)
        // Copying again finds nothing to do.
        let again = try await runTool(["copy", "--store", dir.store, "--to", copy, "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        let v = try JSONParser().parse(again.stdout.trimmingCharacters(in: .newlines))
        #expect(v["copied"]?.intValue == 0)
        #expect(v["resumed_after"]?.intValue == Int(head.position))
        #expect(v["source"] == v["destination"])
        #expect(v["destination"]?["chain"]?.stringValue == head.chainHash.hex)
    }

    @Test func copiesIntoAnEmptyDirectoryAndAFormatOneStore() async throws {
        let dir = TempDir()
        let head = try await makeStore(dir.store, runs: 2, items: 5, formatVersion: 1)
        let copy = dir.path + "/empty"
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: false)
        let r = try await runTool(["copy", "--store", dir.store, "--to", copy])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try openStore(copy).formatVersion == 1)
        #expect(try openStore(copy).head() == head)
        try await Self.expectSame(dir.store, copy)
    }

    @Test func resumesAPartialCopy() async throws {
        let dir = TempDir()
        let head = try await makeStore(dir.store, runs: 4, items: 10)
        let copy = dir.path + "/copy"
        do {
            let source = try openStore(dir.store), partial = try openStore(copy)
            try await partial.appendVerbatim(try source.rawEvents(from: 1, limit: Int(head.position / 3)))
        }
        let r = try await runTool(["copy", "--store", dir.store, "--to", copy, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let v = try JSONParser().parse(r.stdout.trimmingCharacters(in: .newlines))
        #expect(v["resumed_after"]?.intValue == Int(head.position / 3))
        #expect(v["copied"]?.intValue == Int(head.position - head.position / 3))
        try await Self.expectSame(dir.store, copy)
    }

    @Test func refusesADivergedOrLongerDestination() async throws {
        let dir = TempDir()
        let head = try await makeStore(dir.store, runs: 3, items: 10)
        let source = try openStore(dir.store)
        // The first 10 events, then one the source does not have.
        let diverged = dir.path + "/diverged"
        let d = try openStore(diverged)
        try await d.appendVerbatim(try source.rawEvents(from: 1, limit: 10))
        try await d.append([EventEnvelope(type: "test.other", tenant: "contoso", data: ["n": 1])])
        let before = try d.head()
        let r = try await runTool(["copy", "--store", dir.store, "--to", diverged])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("diverges from \(dir.store) at position 11"), "\(r.stderr)")
        #expect(r.stderr.contains("nothing was written"))
        #expect(try d.head() == before)
        // A full copy with one more event is longer than the source.
        let longer = dir.path + "/longer"
        let l = try openStore(longer)
        try await l.appendVerbatim(try source.rawEvents(from: 1, limit: Int(head.position)))
        try await l.append([EventEnvelope(type: "test.other", tenant: "contoso", data: ["n": 1])])
        let r2 = try await runTool(["copy", "--store", dir.store, "--to", longer])
        #expect(r2.status == 1, "\(r2.stderr)")
        #expect(r2.stderr.contains("is longer than \(dir.store): its head is at position \(head.position + 1)"), "\(r2.stderr)")
        #expect(try l.head().position == head.position + 1)
        // Bad input is a usage error.
        for args in [["--to", dir.store], ["--to", longer, "--chunk", "0"], ["--to", ""]] {
            let u = try await runTool(["copy", "--store", dir.store] + args)
            #expect(u.status == 2, "\(args): \(u.stderr)")
        }
    }
}
