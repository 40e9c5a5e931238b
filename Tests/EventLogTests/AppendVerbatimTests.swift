import EventLog
import Foundation
import Testing

/// `appendVerbatim`: a log copied between stores keeps its positions, chain and bytes, and a
/// batch that does not continue the destination's head exactly is refused with nothing written.
@Suite struct AppendVerbatimTests {
    /// A source store with `n` events of two tenants.
    func source(_ n: Int) async throws -> LMDBEventStore {
        let store = try openStore(tempPath(), projections: [TenantCounts()])
        try await store.append((0..<n).map { makeEvent(tenant: $0 % 3 == 0 ? "globex" : "acme", n: $0) })
        return store
    }

    @Test func copiesPositionsChainBytesAndProjections() async throws {
        let src = try await source(25)
        let dst = try openStore(tempPath(), projections: [TenantCounts()])
        var next: UInt64 = 1
        while true {
            let chunk = try src.rawEvents(from: next, limit: 7)
            if chunk.isEmpty { break }
            try await dst.appendVerbatim(chunk)
            next = chunk.last!.position + 1
        }
        #expect(try dst.head() == src.head())
        #expect(try dst.rawEvents(from: 1, limit: 100) == src.rawEvents(from: 1, limit: 100))
        for table in TenantCounts().tableNames.map({ StoreTable.projection("tenant_counts", $0) }) {
            #expect(try dump(dst, table) == dump(src, table))
        }
        #expect(try dst.tenants() == ["acme", "globex"])
        let first = try #require(try src.rawEvents(from: 1, limit: 1).first)
        #expect(try dst.position(of: first.decode().envelope.id) == 1)
    }

    @Test func refusesWhatDoesNotContinueTheHead() async throws {
        let src = try await source(10)
        let dst = try openStore(tempPath())
        try await dst.appendVerbatim(try src.rawEvents(from: 1, limit: 4))
        let head = try dst.head()
        func refused(_ events: [RawEvent], _ code: EventLogError.Code, _ text: String) async throws {
            let error = try await #require(throws: EventLogError.self) { try await dst.appendVerbatim(events) }
            #expect(error.code == code)
            #expect(error.message.contains(text), "\(error.message)")
            #expect(try dst.head() == head, "nothing written")
        }
        // A gap after the head, and a batch that overlaps it.
        try await refused(try src.rawEvents(from: 6, limit: 2), .positionOutOfRange, "start at position 6")
        try await refused(try src.rawEvents(from: 4, limit: 2), .positionOutOfRange, "start at position 4")
        // Positions that are not consecutive.
        let two = try src.rawEvents(from: 5, limit: 3)
        try await refused([two[0], two[2]], .positionOutOfRange, "must be consecutive")
        // A chain hash that differs from the recomputed one: named by position.
        var bad = try src.rawEvents(from: 5, limit: 3)
        bad[1].chainHash = bad[0].chainHash
        try await refused(bad, .corruptEvent, "position 6")
        // Another envelope under the same chain hash.
        var other = try src.rawEvents(from: 5, limit: 1)
        other[0].json = try makeEvent(n: 99).canonicalJSON()
        try await refused(other, .corruptEvent, "position 5")
        // The rest continues where the refused batches left it.
        try await dst.appendVerbatim(try src.rawEvents(from: 5, limit: 100))
        #expect(try dst.head() == src.head())
    }

    @Test func refusesAnIDAlreadyInTheLog() async throws {
        let src = try openStore(tempPath())
        try await src.append([makeEvent(n: 0)])
        let dst = try openStore(tempPath())
        try await dst.appendVerbatim(try src.rawEvents(from: 1, limit: 1))
        // Position 2 repeating position 1's envelope, with the chain hash it would get: the
        // chain checks out, but the id is already in the log.
        let repeated = try src.rawEvents(from: 1, limit: 1)[0]
        let chain = repeated.json.withUnsafeBytes {
            ChainHash.next(after: repeated.chainHash, position: 2, json: $0, format: dst.formatVersion)
        }
        let error = try await #require(throws: EventLogError.self) {
            try await dst.appendVerbatim([RawEvent(position: 2, chainHash: chain, json: repeated.json)])
        }
        #expect(error.code == .invalidEvent)
        #expect(error.message.contains("already in the log at position 1"), "\(error.message)")
        #expect(try dst.head() == src.head())
    }
}
