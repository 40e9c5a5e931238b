import CanonicalJSON
import EventLog
import Foundation
import Inventory
import Sync

/// `atlas-bench inventory [--items 200000] [--missing-items 10000] [--relaxed 1] [--random-ids 1]
/// [--batch 5000] [--in-flight 30000] [--page 5000] [--sync-only 1] [--source-only RUNS] [--writer-only RUNS]`
/// (`--in-flight`: items appended and not yet committed, at most; `--source-only` and
/// `--writer-only`: only the producers, or only the log's writer, RUNS times)
///
/// The export's objects have their members in Graph's order (not sorted), so canonicalizing
/// them is real work. Ids are GUIDs whose first group counts up (`--random-ids 1`: random
/// GUIDs, as Graph hands out, which spread projection updates over the whole B-tree).
///
/// 1. Offline sync of a single-tenant export of N items (durable), end to end in process:
///    reading and parsing the file, canonical hashing, events, group-committed appends and
///    projections.
/// 2. Re-sync of the same export (every item unchanged).
/// 3. `missing` over a tenant with M items: p50 and p99 in process.
/// 4. Each stage's own cost per item: parsing a line and encoding its observation on one
///    thread, and the log's writer appending the encoded events page by page.
enum InventoryBenchmark {
    static let usage = "inventory [--items 200000] [--missing-items 10000] [--relaxed 1] [--random-ids 1] [--batch B] [--in-flight ITEMS] [--page P] [--sync-only 1] [--source-only RUNS] [--writer-only RUNS]"

    static func run(_ args: [String]) async throws -> Int32 {
        let items = Bench.option(args, "items", default: 200_000)
        let missingItems = Bench.option(args, "missing-items", default: 10_000)
        let relaxed = Bench.option(args, "relaxed", default: 0) == 1
        let randomIDs = Bench.option(args, "random-ids", default: 0) == 1
        // The sync's tuning (defaults: SyncRunner.Options and OfflineExportSource's).
        let defaults = SyncRunner.Options()
        let options = SyncRunner.Options(batchSize: Bench.option(args, "batch", default: defaults.batchSize),
                                         itemsInFlight: Bench.option(args, "in-flight", default: defaults.itemsInFlight))
        let dir = try Bench.tempDir("inventory")
        defer { try? FileManager.default.removeItem(atPath: dir) }

        let export = dir + "/export.ndjson"
        var source = OfflineExportSource(path: export)
        source.pageSize = Bench.option(args, "page", default: source.pageSize)
        let bytes = try writeExport(path: export, items: items, randomIDs: randomIDs)
        print("export: \(items) items, \(bytes / 1_048_576) MiB (\(bytes / max(items, 1)) bytes/line), \(randomIDs ? "random" : "ascending") ids")
        let sourceRuns = Bench.option(args, "source-only", default: 0)
        if sourceRuns > 0 {
            try await sourceCosts(source, runs: sourceRuns)
            return 0
        }
        let writerRuns = Bench.option(args, "writer-only", default: 0)
        if writerRuns > 0 {
            try await writerCosts(source, runs: writerRuns, dir: dir)
            return 0
        }

        let store = try LMDBEventStore.open(path: dir + "/store", options: .init(
            create: true, durability: relaxed ? .relaxed : .durable, projections: InventoryProjections.all,
            stateTables: SyncRunner.stateTables))
        let runner = SyncRunner(store: store, options: options)
        let selection = try Self.selection()
        var summary: SyncSummary?
        var commits = store.commitCount
        // CPU time per item is steadier than the rate on a VM whose speed drifts with its host.
        var cpu = LogBenchmark.cpuSeconds()
        var writerCPU = Bench.threadCPUSeconds(named: "lmdb-writer")
        let t1 = try await Bench.time {
            summary = try await runner.run(tenant: "contoso", selection: selection, source: source)
        }
        cpu = LogBenchmark.cpuSeconds() - cpu
        writerCPU = Bench.threadCPUSeconds(named: "lmdb-writer") - writerCPU
        commits = store.commitCount - commits
        print("sync (\(relaxed ? "relaxed" : "durable")): \(summary!.observed) observed, \(summary!.upserted) upserted in \(String(format: "%.2f", t1)) s = \(Bench.rate(summary!.observed, t1)) [status \(summary!.status.rawValue)]; \(commits) commits, \(summary!.observed / max(commits, 1)) items per commit; CPU \(String(format: "%.1f", cpu * 1e6 / Double(max(summary!.observed, 1)))) µs/item (\(String(format: "%.2f", cpu / t1)) cores busy), of which the log's writer thread \(String(format: "%.1f", writerCPU * 1e6 / Double(max(summary!.observed, 1)))) µs/item")
        if Bench.option(args, "sync-only", default: 0) == 1 { return 0 }
        cpu = LogBenchmark.cpuSeconds()
        let t2 = try await Bench.time {
            summary = try await runner.run(tenant: "contoso", selection: selection, source: source)
        }
        cpu = LogBenchmark.cpuSeconds() - cpu
        print("re-sync unchanged: \(summary!.observed) observed, \(summary!.upserted) upserted in \(String(format: "%.2f", t2)) s = \(Bench.rate(summary!.observed, t2)); CPU \(String(format: "%.1f", cpu * 1e6 / Double(max(summary!.observed, 1)))) µs/item")
        let sizes = store.sizes()
        print("store: \(sizes.usedBytes / 1_048_576) MiB used after \(2 * items) observations (\(sizes.usedBytes / max(1, 2 * items)) bytes/observation)")

        // missing over a tenant with M items: two runs, the second without 1% of the items.
        let mExport = dir + "/missing.ndjson"
        _ = try writeExport(path: mExport, items: missingItems, tenantSalt: "m")
        _ = try await runner.run(tenant: "fabrikam", selection: selection, source: OfflineExportSource(path: mExport))
        let partial = dir + "/missing-2.ndjson"
        _ = try writeExport(path: partial, items: missingItems, tenantSalt: "m", skip: { $0 % 100 == 0 })
        _ = try await runner.run(tenant: "fabrikam", selection: selection, source: OfflineExportSource(path: partial))
        let queries = InventoryQueries(store: store)
        var samples: [Double] = []
        var found = 0
        for _ in 0..<300 {
            let t = try await Bench.time { found = try queries.missing(tenant: "fabrikam", selection: selection).missing.count }
            samples.append(t * 1000)
        }
        samples.sort()
        print(String(format: "missing over %d items (%d missing): p50 %.2f ms, p99 %.2f ms", missingItems, found,
                     Bench.percentile(samples, 0.5), Bench.percentile(samples, 0.99)))
        print(String(format: "peak memory: %.0f MiB", Bench.peakMemoryMiB()))
        try await stageCosts(export: export, lines: min(items, 50_000), dir: dir)
        return 0
    }

    /// What every measurement syncs: the configuration and compliance types.
    static func selection() throws -> Selection {
        try SelectionParser.parse(#"{"categories":["configuration","compliance"]}"#).selection
    }

    /// The producers alone: CPU per item (all threads) of the offline source reading, parsing
    /// and encoding the export into a sink that drops the events, `runs` times.
    static func sourceCosts(_ source: OfflineExportSource, runs: Int) async throws {
        let types = try Self.selection().resolvedTypes
        var costs: [Double] = []
        for _ in 0..<runs {
            let sink = DroppingSink()
            let cpu = LogBenchmark.cpuSeconds()
            await source.enumerate(tenant: "contoso", types: types, into: sink)
            let n = sink.count
            costs.append((LogBenchmark.cpuSeconds() - cpu) * 1e6 / Double(max(n, 1)))
        }
        print("source only (read, parse, encode; events dropped): CPU " + costs.map { String(format: "%.2f", $0) }.joined(separator: ", ")
              + String(format: " µs/item; best %.2f", costs.min() ?? 0))
    }

    /// The log's writer alone: the export's observations, encoded first, appended page by page
    /// (as a sync sends them, one page at a time) into a fresh durable store with the inventory
    /// projections, `runs` times; prints the writer thread's CPU per item.
    static func writerCosts(_ source: OfflineExportSource, runs: Int, dir: String) async throws {
        let types = try Self.selection().resolvedTypes
        let sink = DroppingSink(keeping: true)
        await source.enumerate(tenant: "contoso", types: types, into: sink)
        let pages = sink.pages
        let n = pages.reduce(0) { $0 + $1.count }
        var costs: [Double] = []
        for run in 0..<runs {
            let path = dir + "/writer-\(run)"
            let store = try LMDBEventStore.open(path: path, options: .init(
                create: true, durability: .durable, projections: InventoryProjections.all, stateTables: SyncRunner.stateTables))
            let before = Bench.threadCPUSeconds(named: "lmdb-writer")
            for page in pages { try await store.append(encoded: page, precondition: nil) }
            costs.append((Bench.threadCPUSeconds(named: "lmdb-writer") - before) * 1e6 / Double(max(n, 1)))
            try? FileManager.default.removeItem(atPath: path)
        }
        print("writer only (\(n) observations in pages of up to \(source.pageSize)): CPU " + costs.map { String(format: "%.2f", $0) }.joined(separator: ", ")
              + String(format: " µs/item; best %.2f", costs.min() ?? 0))
    }

    /// Counts the observations it is given, and drops them (or keeps their events, by page).
    final class DroppingSink: SourceSink, @unchecked Sendable {
        private let lock = NSLock()
        private var observed = 0
        private let keeping: Bool
        private var kept: [[EncodedEvent]] = []
        var count: Int { lock.withLock { observed } }
        var pages: [[EncodedEvent]] { lock.withLock { kept } }

        init(keeping: Bool = false) { self.keeping = keeping }

        func observationEncoder(for type: PolicyType) -> ObservationEncoder {
            ObservationEncoder(type: type, runID: "0190a5c8-5b7e-7c3a-8f1d-2b4c6d8e0f12", selectionHash: String(repeating: "ab", count: 32),
                               tenant: "contoso", correlationID: nil)
        }
        func receive(_ page: ObservationPage, of type: PolicyType) async throws {
            lock.withLock {
                observed += page.observations.count
                if keeping { kept.append(page.observations.map(\.event)) }
            }
        }
        func record(_ error: SourceError) async {}
        func finishType(_ type: PolicyType, complete: Bool, error: SourceError?) async {}
    }

    /// CPU per item of the producers' two stages on one thread (no store): parsing an export
    /// line into its canonical item, and encoding the item's `item_observed` event.
    static func stageCosts(export: String, lines: Int, dir: String) async throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: export))
        var ranges: [Range<Int>] = []
        data.withUnsafeBytes { b in
            var start = 0
            for i in 0..<b.count where b[i] == 10 {
                if ranges.count == lines { break }
                ranges.append(start..<i)
                start = i + 1
            }
        }
        var parsed: [(String, GraphObject)] = []
        parsed.reserveCapacity(ranges.count)
        var scratch: [UInt8] = []
        var cpu = LogBenchmark.cpuSeconds(thread: true)
        try data.withUnsafeBytes { b in
            for r in ranges {
                if case .item(let type, let item) = try ExportLine.parse(UnsafeRawBufferPointer(rebasing: b[r]), scratch: &scratch) {
                    parsed.append((type, item))
                }
            }
        }
        let parse = LogBenchmark.cpuSeconds(thread: true) - cpu
        let encoders = Dictionary(uniqueKeysWithValues: PolicyTypeRegistry.all.map {
            ($0.key, ObservationEncoder(type: $0, runID: EventID.generate().description, selectionHash: String(repeating: "ab", count: 32),
                                        tenant: "contoso", correlationID: EventID.generate().description))
        })
        var bytes = 0
        var encode = Double.infinity
        var encoded: [[EncodedEvent]] = []
        for _ in 0..<3 {  // the best of three: the first pass also pays for growing the heap
            bytes = 0
            var events: [EncodedEvent] = []
            events.reserveCapacity(parsed.count)
            cpu = LogBenchmark.cpuSeconds(thread: true)
            for (type, item) in parsed {
                let e = try encoders[type]!.encode(item).event
                bytes += e.json.count
                events.append(e)
            }
            encode = min(encode, LogBenchmark.cpuSeconds(thread: true) - cpu)
            var pages: [String: [EncodedEvent]] = [:]
            for ((type, _), e) in zip(parsed, events) { pages[type, default: []].append(e) }
            encoded = pages.keys.sorted().flatMap { key in stride(from: 0, to: pages[key]!.count, by: 5000).map { Array(pages[key]![$0..<min($0 + 5000, pages[key]!.count)]) } }
        }
        // The log's writer alone: the same events appended page by page, one page at a time,
        // into a fresh store with the inventory projections (durable).
        let store = try LMDBEventStore.open(path: dir + "/stage-store", options: .init(
            create: true, durability: .durable, projections: InventoryProjections.all, stateTables: SyncRunner.stateTables))
        let writerBefore = Bench.threadCPUSeconds(named: "lmdb-writer")
        for page in encoded { try await store.append(encoded: page, precondition: nil) }
        let writer = Bench.threadCPUSeconds(named: "lmdb-writer") - writerBefore
        print(String(format: "stages (%d items): parse %.2f µs/line and encode %.2f µs/item on one thread (%d-byte events); the log's writer %.2f µs/item",
                     parsed.count, parse * 1e6 / Double(max(parsed.count, 1)), encode * 1e6 / Double(max(parsed.count, 1)),
                     bytes / max(parsed.count, 1), writer * 1e6 / Double(max(parsed.count, 1))))
    }

    /// Writes an export of `items` realistic Graph objects across configuration and compliance
    /// types, members in Graph's order.
    /// Writes an export of `items` items (but those `skip` names) spread over four types, each
    /// type's coverage marker after the items; returns its size in bytes.
    /// With `randomIDs`, `idSeed` picks the GUIDs (another seed, other ids: one per tenant).
    static func writeExport(path: String, items: Int, tenantSalt: String = "", randomIDs: Bool = false, idSeed: UInt64 = 0,
                            skip: (Int) -> Bool = { _ in false }) throws -> Int {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = FileHandle(forWritingAtPath: path)!
        defer { try? handle.close() }
        let types: [(String, String)] = [
            ("deviceConfiguration", "#microsoft.graph.windows10GeneralConfiguration"),
            ("settingsCatalogPolicy", "#microsoft.graph.deviceManagementConfigurationPolicy"),
            ("deviceCompliancePolicy", "#microsoft.graph.iosCompliancePolicy"),
            ("groupPolicyConfiguration", "#microsoft.graph.groupPolicyConfiguration"),
        ]
        var buffer = [UInt8]()
        var total = 0
        var counts = [Int](repeating: 0, count: types.count)
        for i in 0..<items where !skip(i) {
            let (type, odata) = types[i % types.count]
            counts[i % types.count] += 1
            let id: String
            if randomIDs {
                // Reproducible, well-spread bits (a multiplicative hash of the index).
                let a = (UInt64(i) &+ 1) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(tenantSalt.count) ^ (idSeed &* 0xD6E8_FEB8_6659_FD93)
                let b = (a ^ (a >> 29)) &* 0xBF58_476D_1CE4_E5B9
                id = String(format: "%08x-%04x-4%03x-8%03x-%012llx", UInt32(truncatingIfNeeded: a), UInt16(truncatingIfNeeded: a >> 32),
                            Int((a >> 48) & 0xFFF), Int(b & 0xFFF), (b >> 12) & 0xFFFF_FFFF_FFFF)
            } else {
                id = String(format: "%08x-%04x-4%03x-8%03x-%012x", i, i % 65536, i % 4096, (i * 7) % 4096, i * 31 + tenantSalt.count)
            }
            // Members in the order Graph sends them.
            var o: [(String, JSONValue)] = [("@odata.type", .string(odata)), ("id", .string(id))]
            if type == "settingsCatalogPolicy" {
                o += [("name", .string("Settings catalog \(i)")), ("platforms", "windows10"), ("technologies", "mdm"),
                      ("templateReference", .object(["templateFamily": "endpointSecurityAntivirus", "templateId": ""]))]
            } else {
                o.append(("displayName", .string("Policy \(i) \(type)")))
            }
            o += [
                ("description", .string("Baseline policy \(i) managed by the platform team")),
                ("createdDateTime", "2024-03-01T10:00:00Z"), ("lastModifiedDateTime", "2025-06-01T12:30:00Z"),
                ("roleScopeTagIds", ["0", "12"]), ("version", .number(Double(i % 17))),
                ("passwordRequired", .bool(i % 2 == 0)), ("passwordMinimumLength", .number(Double(8 + i % 8))),
                ("settings", .array((0..<3).map { .object(["value": .number(Double(i % 5 + $0)), "key": .string("setting\($0)")]) })),
            ]
            buffer += #"{"policy_type":"#.utf8
            CanonicalJSON.writeString(type, into: &buffer)
            buffer += #","item":{"#.utf8
            for (n, (key, value)) in o.enumerated() {
                if n > 0 { buffer.append(UInt8(ascii: ",")) }
                CanonicalJSON.writeString(key, into: &buffer)
                buffer.append(UInt8(ascii: ":"))
                try CanonicalJSON.write(value, into: &buffer)
            }
            buffer += "}}\n".utf8
            if buffer.count > 1 << 20 {
                total += buffer.count
                handle.write(Data(buffer))
                buffer.removeAll(keepingCapacity: true)
            }
        }
        for (t, (type, _)) in types.enumerated() {
            buffer += #"{"policy_type":"#.utf8
            CanonicalJSON.writeString(type, into: &buffer)
            buffer += #","enumerated":{"count":\#(counts[t])}}"#.utf8
            buffer.append(10)
        }
        total += buffer.count
        handle.write(Data(buffer))
        return total
    }
}
