import CanonicalJSON
import EventLog
import EventLogPostgres
import Foundation
import Inventory
import Sync
import Testing

/// The inventory's projections and queries give the same answers on both backends.
@Suite("Inventory conformance")
struct InventoryConformanceTests {
    static let types = ["deviceConfiguration", "deviceCompliancePolicy"]
    static let selection = #"{"policy_types":["deviceConfiguration","deviceCompliancePolicy"]}"#

    /// An offline export of `count` items per type (ids from `seed`), every `drop`-th left out,
    /// with a coverage marker per type.
    static func export(seed: Int, count: Int, drop: Int, version: Int, dir: String) throws -> String {
        var lines: [String] = []
        var counts: [String: Int] = [:]
        for t in types {
            for i in 0..<count where drop == 0 || i % drop != 0 {
                let id = String(format: "%08x-0000-4000-8000-%012x", seed, i + (t == types[0] ? 0 : 1_000_000))
                let item: JSONValue = .object([
                    "id": .string(id), "displayName": .string("policy \(i) of \(t)"),
                    "@odata.type": "#microsoft.graph.windows10GeneralConfiguration",
                    "version": .number(Double(version + i % 3)), "roleScopeTagIds": ["0"],
                ])
                lines.append(line(["policy_type": .string(t), "item": item]))
                counts[t, default: 0] += 1
            }
            lines.append(line(["policy_type": .string(t), "enumerated": .object(["count": .number(Double(counts[t, default: 0]))])]))
        }
        let path = dir + "/export-\(seed)-\(version)-\(drop).ndjson"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func line(_ o: [String: JSONValue]) -> String {
        String(decoding: try! CanonicalJSON.serialize(.object(o)), as: UTF8.self)
    }

    /// Every answer the inventory gives for `tenants`.
    struct Answers: Equatable {
        var items: [String: [InventoryItem]] = [:]
        var runs: [String: [SyncRun]] = [:]
        var missing: [String: MissingReport] = [:]
        var tenants: [TenantSummary] = []
    }

    static func answers(_ store: any EventStore, tenants: [String]) throws -> Answers {
        let q = InventoryQueries(store: store)
        let s = try SelectionParser.parse(selection).selection
        var a = Answers()
        for t in tenants {
            a.items[t] = try q.items(tenant: t)
            a.runs[t] = try q.runs(tenant: t)
            a.missing[t] = try q.missing(tenant: t, selection: s)
        }
        a.tenants = try q.tenants()
        return a
    }

    @Test func syncsAndCopiesGiveTheSameAnswersAndHeads() async throws {
        let dir = NSTemporaryDirectory() + "pg-inventory-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let selection = try SelectionParser.parse(Self.selection).selection
        let exports = [
            ("contoso", try Self.export(seed: 1, count: 120, drop: 0, version: 1, dir: dir)),
            ("fabrikam", try Self.export(seed: 2, count: 80, drop: 0, version: 1, dir: dir)),
            ("contoso", try Self.export(seed: 1, count: 120, drop: 7, version: 2, dir: dir)),
        ]
        let tenants = ["contoso", "fabrikam"]

        // 1. The same exports synced into each backend by the sync runner (leases, preconditions
        //    and projections on each): the same items and gaps, up to run ids and times.
        var synced: [Backend: any EventStore] = [:]
        for backend in Backend.allCases {
            let store = try await StoreLocation.fresh(backend, "inventory").open(
                projections: InventoryProjections.all, stateTables: SyncRunner.stateTables)
            let runner = SyncRunner(store: store)
            for (tenant, path) in exports {
                _ = try await runner.run(tenant: tenant, selection: selection, source: OfflineExportSource(path: path))
            }
            synced[backend] = store
        }
        let lmdb = try Self.answers(synced[.lmdb]!, tenants: tenants)
        let pg = try Self.answers(synced[.postgres]!, tenants: tenants)
        func shape(_ a: Answers) -> [String] {
            tenants.flatMap { t in
                a.items[t]!.map { "\(t) \($0.policyType) \($0.externalID) \($0.contentSHA256)" }
                    + a.missing[t]!.missing.map { "missing \(t) \($0.externalID)" }
                    + a.runs[t]!.map { "run \(t) \($0.status) \($0.observed) \($0.upserted)" }
            }
        }
        #expect(shape(lmdb) == shape(pg))
        #expect(lmdb.items["contoso"]?.count == 240)
        #expect(lmdb.missing["contoso"]?.missing.count == 36)
        #expect(try synced[.lmdb]!.head().position == synced[.postgres]!.head().position)

        // 2. LMDB's log appended event by event to a fresh PostgreSQL store: the same head hash
        //    and exactly the same answers.
        let copyLocation = try await StoreLocation.fresh(.postgres, "copy")
        let copy = try copyLocation.open(projections: InventoryProjections.all, stateTables: SyncRunner.stateTables)
        let source = synced[.lmdb]!
        var batch: [EncodedEvent] = []
        try source.forEachRawEvent { e in
            batch.append(try EncodedEvent(stored: e.json))
            return true
        }
        for chunk in stride(from: 0, to: batch.count, by: 97) {
            try await copy.append(encoded: Array(batch[chunk..<min(batch.count, chunk + 97)]), precondition: nil)
        }
        #expect(try copy.head() == source.head())
        #expect(try Self.answers(copy, tenants: tenants) == lmdb)
        // A rebuild on PostgreSQL gives the same answers again.
        try await copy.rebuildProjections(named: nil, progress: nil)
        #expect(try Self.answers(copy, tenants: tenants) == lmdb)
        // And a rebuild that may hold only 50 rows in memory: it writes them out and fetches
        // rows again many times over (the store has a few thousand).
        var small = PostgresEventStore.Options(projections: InventoryProjections.all, stateTables: SyncRunner.stateTables)
        small.rebuildMemoryRows = 50
        let tight = try PostgresEventStore.open(url: copyLocation.address, options: small)
        try await tight.rebuildProjections(named: nil, progress: nil)
        #expect(try Self.answers(tight, tenants: tenants) == lmdb)
        tight.close()
    }
}
