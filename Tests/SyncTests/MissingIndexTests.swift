import AtlasTesting
import CanonicalJSON
import EventLog
import Foundation
@testable import Inventory
import Testing

/// `missing` read through the `by_last_runs` index: the same answers as the rule in
/// docs/inventory-events.md (a model of it here is the oracle), at a cost that follows the
/// answer, not the inventory.
@Suite struct MissingIndexTests {
    static let s1 = Selection(policyTypes: ["deviceConfiguration", "deviceCompliancePolicy"])
    static let s2 = Selection(policyTypes: ["deviceConfiguration"])

    @Test func aRunStillRunningChangesNothingUntilItFinishes() async throws {
        let h = try History()
        let r1 = try await h.run(Self.s1, items: ["deviceConfiguration": ["a", "b", "c"], "deviceCompliancePolicy": ["x"]])
        // A second run is live and has seen only a so far: L is still r1, which saw everything.
        let r2 = try await h.start(Self.s1)
        try await h.observe(r2, "deviceConfiguration", ["a"])
        var report = try h.check(Self.s1)
        #expect(report.latestRun?.runID == r1 && report.missing.isEmpty && report.unknown.isEmpty)
        try await h.finish(r2, complete: ["deviceConfiguration", "deviceCompliancePolicy"])
        report = try h.check(Self.s1)
        #expect(report.latestRun?.runID == r2)
        #expect(report.missing.map(\.externalID) == ["b", "c", "x"])
        #expect(!report.lowConfidence)
        // A third run, still live, sees b again: b stays missing until that run completes.
        let r3 = try await h.start(Self.s1)
        try await h.observe(r3, "deviceConfiguration", ["b"])
        #expect(try h.check(Self.s1).missing.map(\.externalID) == ["b", "c", "x"])
        try await h.finish(r3, complete: ["deviceConfiguration", "deviceCompliancePolicy"])
        #expect(try h.check(Self.s1).missing.map(\.externalID) == ["a", "c", "x"])
    }

    @Test func failedOrPartialLatestRunIsLowConfidence() async throws {
        let h = try History()
        _ = try await h.run(Self.s1, items: ["deviceConfiguration": ["a", "b"], "deviceCompliancePolicy": ["x", "y"]])
        // Partial: deviceConfiguration not enumerated completely, so b is unknown; y is missing.
        let partial = try await h.run(Self.s1, items: ["deviceConfiguration": ["a"], "deviceCompliancePolicy": ["x"]],
                                      complete: ["deviceCompliancePolicy"], status: .partial)
        var report = try h.check(Self.s1)
        #expect(report.latestRun?.runID == partial && report.lowConfidence)
        #expect(report.missing.map(\.externalID) == ["y"] && report.unknown.map(\.externalID) == ["b"])
        // Failed (an abandoned run finished by the next process) after seeing nothing: everything
        // the earlier runs saw is missing or unknown, at low confidence.
        let failed = try await h.run(Self.s1, items: [:], complete: [], status: .failed)
        report = try h.check(Self.s1)
        #expect(report.latestRun?.runID == failed && report.lowConfidence)
        #expect(report.missing.isEmpty && report.unknown.map(\.externalID) == ["a", "b", "x", "y"])
        // A success with errors is low confidence too.
        _ = try await h.run(Self.s1, items: ["deviceConfiguration": ["a"], "deviceCompliancePolicy": ["x", "y"]], hadErrors: true)
        report = try h.check(Self.s1)
        #expect(report.lowConfidence && report.missing.map(\.externalID) == ["b"])
    }

    @Test func anItemSeenAgainAfterBeingMissingIsPresent() async throws {
        let h = try History()
        let all = ["deviceConfiguration": ["a", "b"], "deviceCompliancePolicy": [String]()]
        _ = try await h.run(Self.s1, items: all)
        _ = try await h.run(Self.s1, items: ["deviceConfiguration": ["a"]])
        #expect(try h.check(Self.s1).missing.map(\.externalID) == ["b"])
        _ = try await h.run(Self.s1, items: all)
        #expect(try h.check(Self.s1).missing.isEmpty)
        _ = try await h.run(Self.s1, items: ["deviceConfiguration": ["b"]])
        #expect(try h.check(Self.s1).missing.map(\.externalID) == ["a"])
    }

    @Test func otherSelectionsDoNotInterfere() async throws {
        let h = try History()
        _ = try await h.run(Self.s1, items: ["deviceConfiguration": ["a", "b"], "deviceCompliancePolicy": ["x"]])
        let before = try h.check(Self.s1)
        // s2 runs over the same items, one live, one finished without b.
        _ = try await h.run(Self.s2, items: ["deviceConfiguration": ["a"]])
        let live = try await h.start(Self.s2)
        try await h.observe(live, "deviceConfiguration", ["b"])
        #expect(try h.check(Self.s1) == before)
        #expect(try h.check(Self.s2).missing.isEmpty)
        try await h.finish(live, complete: ["deviceConfiguration"])
        #expect(try h.check(Self.s1) == before)
        #expect(try h.check(Self.s2).missing.map(\.externalID) == ["a"])
    }

    /// Random histories of two selections (runs left running, abandoned, partial, failed, items
    /// coming and going): after every step the query answers as the rule says; at the end a
    /// rebuild of the projection gives the same tables as the incremental updates.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func randomHistoriesFollowTheRuleAndRebuildTheSameTables(seed: UInt64) async throws {
        let h = try History()
        var rng = SplitMix64(seed: seed)
        let pool = (0..<10).map { "item-\($0)" }
        var live: [String: String] = [:]  // selection hash → run id
        for _ in 0..<30 {
            let sel = rng.below(3) == 0 ? Self.s2 : Self.s1
            if let run = live[sel.hash] {
                switch rng.below(4) {
                case 0:  // abandoned for good: a new run starts over it
                    live[sel.hash] = nil
                default:
                    let types = sel.resolvedTypes.map(\.key)
                    let complete = types.filter { _ in rng.below(4) != 0 }
                    let status: SyncRunStatus = [.success, .success, .partial, .failed][rng.below(4)]
                    try await h.finish(run, complete: complete, status: status, hadErrors: rng.below(5) == 0)
                    live[sel.hash] = nil
                }
            } else {
                let run = try await h.start(sel)
                for type in sel.resolvedTypes.map(\.key) {
                    try await h.observe(run, type, pool.filter { _ in rng.below(3) != 0 })
                }
                live[sel.hash] = run
            }
            _ = try h.check(Self.s1)
            _ = try h.check(Self.s2)
        }
        let tables = [ObservationsProjection.table, ObservationsProjection.byLastRuns]
        let incremental = try tables.map { try h.dump($0) }
        #expect(incremental[0].count == incremental[1].count)
        try h.store.rebuildSync(named: ["selection_observations"], progress: nil)
        #expect(try tables.map { try h.dump($0) } == incremental)
    }

    /// The query reads the rows of the items the latest run did not see, not the inventory: a
    /// reader counting what it is asked for sees a few rows per missing item.
    @Test func theQueryReadsRowsOfMissingItemsOnly() async throws {
        let h = try History()
        let ids = (0..<2_000).map { String(format: "%05d", $0) }
        _ = try await h.run(Self.s1, items: ["deviceConfiguration": ids])
        let live = try await h.start(Self.s1)
        try await h.observe(live, "deviceConfiguration", Array(ids.prefix(1_500)))
        try await h.finish(live, complete: ["deviceConfiguration", "deviceCompliancePolicy"])
        let third = try await h.start(Self.s1)
        try await h.observe(third, "deviceConfiguration", Array(ids.prefix(1_000)))
        // 500 missing; the third run is still live and has seen 1,000 items again.
        let counting = CountingReader()
        let report = try h.store.read { r in
            counting.base = r
            defer { counting.base = nil }
            return try InventoryQueries.missing(in: counting, tenant: History.tenant, selectionHash: Self.s1.hash,
                                                coveredTypes: Self.s1.resolvedTypes.map(\.key))
        }
        #expect(report.missing.map(\.externalID) == Array(ids[1_500...]))
        #expect(counting.visited <= 3 * 500 + 50, "visited \(counting.visited) entries for 500 missing items of 2,000")
    }
}

/// A `KeyValueReader` that counts the entries it hands out.
final class CountingReader: KeyValueReader, @unchecked Sendable {
    var base: (any KeyValueReader)?
    private(set) var visited = 0

    func withValue<R>(_ table: StoreTable, _ key: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        visited += 1
        return try base!.withValue(table, key, body)
    }

    func scan(_ table: StoreTable, prefix: [UInt8], from start: [UInt8]?, reverse: Bool,
              _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
        try base!.scan(table, prefix: prefix, from: start, reverse: reverse) { k, v in
            visited += 1
            return try body(k, v)
        }
    }

    func count(_ table: StoreTable) throws -> Int { try base!.count(table) }

    func rawEvent(at position: UInt64) throws -> RawEvent? {
        visited += 1
        return try base!.rawEvent(at: position)
    }
}

/// A store written event by event, with a model of the missing rule beside it.
final class History: @unchecked Sendable {
    static let tenant = "contoso"
    let dir: String
    let store: LMDBEventStore
    private var clock: Int64 = 1_735_689_600_000

    // The model: per selection hash and type ‖ id, the runs that last observed the item (newest
    // first, three at most); per run its selection, types, status and finish position.
    private var observers: [String: [String: [String]]] = [:]
    private var runs: [String: (selection: Selection, complete: Set<String>, status: SyncRunStatus?, hadErrors: Bool)] = [:]
    private var latest: [String: String] = [:]  // selection hash → run finished last

    init() throws {
        dir = NSTemporaryDirectory() + "atlas-missing-index-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        store = try LMDBEventStore.open(path: dir, options: .init(create: true, durability: .relaxed, projections: InventoryProjections.all))
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    private func envelope(_ type: String, _ data: JSONValue) -> EventEnvelope {
        clock += 1
        return EventEnvelope(type: type, tenant: Self.tenant, recordedAt: Timestamp(millisecondsSinceEpoch: clock), data: data)
    }

    func start(_ selection: Selection) async throws -> String {
        let run = EventID.generate().description
        runs[run] = (selection, [], nil, false)
        _ = try await store.append([envelope(InventoryEventType.syncRunStarted, SyncRunStarted(
            runID: run, selectionHash: selection.hash, selection: selection.json, resolvedTypes: selection.resolvedTypes.map(\.key),
            source: "offline", correlationID: run).data)])
        return run
    }

    func observe(_ run: String, _ type: String, _ ids: [String]) async throws {
        let hash = runs[run]!.selection.hash
        var events: [EventEnvelope] = []
        for id in ids {
            events.append(envelope(InventoryEventType.itemObserved, ItemObserved(
                runID: run, selectionHash: hash, policyType: type, externalID: id, displayName: "policy \(id)", category: "configuration",
                platform: nil, meta: [:], contentSHA256: String(repeating: "ab", count: 32), droppedMetaKeys: 0).data))
            let key = type + "\u{0}" + id
            var list = observers[hash, default: [:]][key, default: []].filter { $0 != run }
            list.insert(run, at: 0)
            observers[hash, default: [:]][key] = Array(list.prefix(3))
        }
        if !events.isEmpty { _ = try await store.append(events) }
    }

    func finish(_ run: String, complete: [String], status: SyncRunStatus = .success, hadErrors: Bool = false) async throws {
        let r = runs[run]!
        var events: [EventEnvelope] = []
        for type in r.selection.resolvedTypes.map(\.key) {
            events.append(envelope(InventoryEventType.policyTypeEnumerated, PolicyTypeEnumerated(
                runID: run, selectionHash: r.selection.hash, policyType: type, complete: complete.contains(type), count: 0, errorCode: nil).data))
        }
        events.append(envelope(InventoryEventType.syncRunFinished, SyncRunFinished(
            runID: run, selectionHash: r.selection.hash, status: status, hadErrors: hadErrors, observed: 0, upserted: 0, errors: 0,
            errorCodes: [], errorContext: []).data))
        _ = try await store.append(events)
        runs[run] = (r.selection, Set(complete), status, hadErrors)
        latest[r.selection.hash] = run
    }

    /// A whole run: started, `items` observed, finished.
    func run(_ selection: Selection, items: [String: [String]], complete: [String]? = nil, status: SyncRunStatus = .success,
             hadErrors: Bool = false) async throws -> String {
        let run = try await start(selection)
        for type in selection.resolvedTypes.map(\.key) { try await observe(run, type, items[type] ?? []) }
        try await finish(run, complete: complete ?? selection.resolvedTypes.map(\.key), status: status, hadErrors: hadErrors)
        return run
    }

    /// The model's answer: (latest run, low confidence, missing ids, unknown ids), items in
    /// type order then id.
    func expected(_ selection: Selection) -> (String?, Bool, [String], [String]) {
        guard let l = latest[selection.hash], let run = runs[l] else { return (nil, true, [], []) }
        var missing: [String] = [], unknown: [String] = []
        for type in selection.resolvedTypes.map(\.key) {
            let rows = observers[selection.hash, default: [:]].filter { $0.key.hasPrefix(type + "\u{0}") }
            for key in rows.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
                guard let decisive = rows[key]!.first(where: { runs[$0]?.status != nil }), decisive != l else { continue }
                let id = String(key.dropFirst(type.utf8.count + 1))
                if run.complete.contains(type) { missing.append(id) } else { unknown.append(id) }
            }
        }
        return (l, run.status != .success || run.hadErrors, missing, unknown)
    }

    /// The query's answer, checked against the model.
    @discardableResult
    func check(_ selection: Selection, sourceLocation: SourceLocation = #_sourceLocation) throws -> MissingReport {
        let report = try InventoryQueries(store: store).missing(tenant: Self.tenant, selection: selection)
        let (l, low, missing, unknown) = expected(selection)
        #expect(report.latestRun?.runID == l, sourceLocation: sourceLocation)
        #expect(report.lowConfidence == low, sourceLocation: sourceLocation)
        #expect(report.missing.map(\.externalID) == missing, sourceLocation: sourceLocation)
        #expect(report.unknown.map(\.externalID) == unknown, sourceLocation: sourceLocation)
        return report
    }

    func dump(_ table: StoreTable) throws -> [[UInt8]: [UInt8]] {
        try store.read { r in
            var out: [[UInt8]: [UInt8]] = [:]
            try r.scan(table, prefix: []) { k, v in
                out[Array(k)] = Array(v)
                return true
            }
            return out
        }
    }
}
