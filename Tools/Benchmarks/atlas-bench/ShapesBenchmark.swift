import AtlasTesting
import EventLog
import Foundation
import Inventory
import ReplayKit
import Sync

/// `atlas-bench shapes --shape a|b|c [--scale PERCENT]`: the store at the shapes users have,
/// each printed with its figures.
///
/// - (a) 2 tenants × 200,000 items, each tenant synced 4 times (offline exports of random
///   GUIDs, ~580-byte lines, members in Graph's order; 1 % of the items gone in the last sync);
/// - (b) 500 tenants × 2,000 items, synced 16 at a time;
/// - (c) the long history: 5 tenants × 200 items × 3 types replayed run after run to 1,000,000
///   events (`SyntheticInventory`, as `replay` uses).
///
/// Each prints sync (or append) items/s, store bytes per observation, `missing` p50/p99 on one
/// tenant and peak memory. `--scale` shrinks the item counts (100 = the shapes above).
///
/// Shape (a) then replays its log (`--replay 0` skips this): `--rebuilds` rebuilds of all
/// projections in one pass, each checked against the incremental projections by digest, with
/// events/s, the writer's and read-ahead thread's CPU per event and the peak memory of each;
/// verify in process; as-of (half the log replayed into a scratch store).
enum ShapesBenchmark {
    static let usage = "shapes --shape a|b|c [--scale PERCENT] [--dir DIR] [--replay 0|1] [--rebuilds N] [--chunk EVENTS] [--rebuild-memory MIB] [--keep 1]"

    static func run(_ args: [String]) async throws -> Int32 {
        let o = try Options(args, allowed: ["shape", "scale", "dir", "replay", "rebuilds", "chunk", "rebuild-memory", "keep"])
        let scale = try o.int("scale", default: 100)
        func scaled(_ n: Int) -> Int { max(1, n * scale / 100) }
        // Read before the syncs, so that a bad value fails at once.
        let replays = try o.flag("replay", default: true)
        let rebuilds = try o.int("rebuilds", default: 3), chunk = try o.int("chunk", default: 100_000)
        let memory = try o.int("rebuild-memory", default: LMDBEventStore.defaultRebuildMemoryLimit >> 20) << 20
        let dir = try o.string("dir").map { d -> String in
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            return d + "/shapes-\(UUID().uuidString)"
        } ?? Bench.tempDir("shapes")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // `--keep 1` leaves the store for profiling one phase (e.g. `atlas-replay rebuild --store DIR/store`).
        let keep = o.string("keep") == "1"
        defer { if keep { print("kept store: \(dir)/store") } else { try? FileManager.default.removeItem(atPath: dir) } }
        let store = try LMDBEventStore.open(path: dir + "/store", options: .init(
            create: true, durability: .durable, projections: InventoryProjections.all, stateTables: SyncRunner.stateTables))
        let selection = try InventoryBenchmark.selection()
        switch o.string("shape") {
        case "a":
            let items = scaled(200_000)
            print("shape (a): 2 tenants × \(items) items (random GUIDs, ~580-byte lines), each synced 4 times, durable")
            let runner = SyncRunner(store: store)
            for sync in 1...4 {
                for (t, tenant) in ["contoso", "fabrikam"].enumerated() {
                    let export = dir + "/export-\(tenant).ndjson"
                    _ = try InventoryBenchmark.writeExport(path: export, items: items, randomIDs: true, idSeed: UInt64(t + 1),
                                                           skip: { sync == 4 && $0 % 100 == 7 })
                    var summary: SyncSummary?
                    let seconds = try await Bench.time {
                        summary = try await runner.run(tenant: tenant, selection: selection, source: OfflineExportSource(path: export))
                    }
                    print("  sync \(sync) of \(tenant): \(summary!.observed) observed, \(summary!.upserted) upserted in \(String(format: "%.2f", seconds)) s = \(Bench.rate(summary!.observed, seconds)) [\(summary!.status.rawValue)]")
                    try? FileManager.default.removeItem(atPath: export)
                }
            }
            try report(store, tenant: "contoso", selection: selection, observations: 8 * items)
            if replays {
                try await replay(store, rebuilds: rebuilds, chunk: chunk, memoryLimit: memory, scratch: dir)
            }
        case "b":
            let tenants = 500, items = scaled(2_000), width = 16
            print("shape (b): \(tenants) tenants × \(items) items (random GUIDs, ~580-byte lines), synced \(width) at a time, durable")
            let runner = SyncRunner(store: store)
            var observed = 0
            let seconds = try await Bench.time {
                try await withThrowingTaskGroup(of: Int.self) { group in
                    var next = 0
                    func add() {
                        let t = next
                        next += 1
                        group.addTask {
                            let export = dir + "/export-\(t).ndjson"
                            _ = try InventoryBenchmark.writeExport(path: export, items: items, randomIDs: true, idSeed: UInt64(t + 1))
                            defer { try? FileManager.default.removeItem(atPath: export) }
                            return try await runner.run(tenant: "tenant-\(t)", selection: selection, source: OfflineExportSource(path: export)).observed
                        }
                    }
                    for _ in 0..<width { add() }
                    while let n = try await group.next() {
                        observed += n
                        if next < tenants { add() }
                    }
                }
            }
            print("  \(observed) items observed in \(String(format: "%.1f", seconds)) s = \(Bench.rate(observed, seconds)) (export writing included)")
            try report(store, tenant: "tenant-0", selection: selection, observations: observed)
        case "c":
            let events = scaled(1_000_000)
            print("shape (c): long history, 5 tenants × 200 items × 3 types, run after run to \(events) events")
            var gen = SyntheticInventory(tenants: (0..<5).map { "tenant-\($0)" }, itemsPerType: 200)
            var head = LogHead.empty
            let seconds = try await Bench.time { head = try await gen.populate(store, events: events) }
            print("  appended \(head.position) events in \(String(format: "%.1f", seconds)) s = \(Bench.rate(Int(head.position), seconds))")
            try report(store, tenant: "tenant-0", selection: gen.selection, observations: Int(head.position))
        default:
            throw UsageError(message: "--shape must be a, b or c")
        }
        return 0
    }

    /// Rebuilds (each proved equal to the incremental projections by digest), verify and as-of
    /// over `store`'s log, each with events/s and peak memory.
    static func replay(_ store: LMDBEventStore, rebuilds: Int, chunk: Int, memoryLimit: Int, scratch: String) async throws {
        let head = try store.head().position
        var phases: [ReplayBenchmark.Phase] = []
        print("  replay of the \(head)-event log:")
        for r in 1...rebuilds {
            let before = try ProjectionDigest.atHead(store, projections: InventoryProjections.all)
            let writer0 = Bench.threadCPUSeconds(named: "lmdb-writer"), ahead0 = LMDBEventStore.rebuildReadAheadCPUSeconds
            var held: RebuildMemoryUse?
            _ = try await ReplayBenchmark.measure("  rebuild \(r)", &phases) {
                held = try store.rebuildSync(named: nil, progress: nil, chunk: chunk, memoryLimit: memoryLimit)
                return head
            }
            let writer = Bench.threadCPUSeconds(named: "lmdb-writer") - writer0, ahead = LMDBEventStore.rebuildReadAheadCPUSeconds - ahead0
            let after = try ProjectionDigest.atHead(store, projections: InventoryProjections.all)
            let equal = before.head == after.head && before.digests == after.digests
            print(String(format: "      CPU per event: writer thread %.2f µs, read-ahead thread %.2f µs; tables held in memory: peak %d MiB (limit %d MiB), written out early %d times; digests %@",
                         writer * 1e6 / Double(head), ahead * 1e6 / Double(head), (held?.peakBytes ?? 0) >> 20, memoryLimit >> 20, held?.spills ?? 0,
                         equal ? "equal to the incremental projections'" : "DIFFERENT"))
            guard equal else { throw ReplayFailure("rebuild \(r): projection digests differ from the incremental projections'") }
        }
        _ = try await ReplayBenchmark.measure("  verify", &phases) {
            let report = try await Verifier(store: store, scratchParent: scratch).run()
            guard report.status == .ok else { throw ReplayFailure("verify failed: \(report.problems.first?.message ?? "")") }
            return report.eventsChecked
        }
        _ = try await ReplayBenchmark.measure("  as-of", &phases) {
            try await AsOf.replay(store, through: head / 2, scratchParent: scratch).replayed
        }
    }

    /// Store size per observation, `missing` p50/p99 over `tenant`, peak memory.
    static func report(_ store: LMDBEventStore, tenant: String, selection: Selection, observations: Int) throws {
        let sizes = store.sizes()
        print("  store: \(sizes.usedBytes / 1_048_576) MiB, \(sizes.usedBytes / max(1, observations)) bytes per observation")
        let queries = InventoryQueries(store: store)
        var samples: [Double] = []
        var found = (0, 0)
        for _ in 0..<100 {
            let t = try ContinuousClock().measure {
                let r = try queries.missing(tenant: tenant, selection: selection)
                found = (r.missing.count, r.unknown.count)
            }
            samples.append(Double(t.components.attoseconds) / 1e15 + Double(t.components.seconds) * 1000)
        }
        samples.sort()
        print(String(format: "  missing over %@ (%d missing, %d unknown): p50 %.2f ms, p99 %.2f ms", tenant, found.0, found.1,
                     Bench.percentile(samples, 0.5), Bench.percentile(samples, 0.99)))
        print(String(format: "  peak memory %.0f MiB", Bench.peakMemoryMiB()))
    }
}
