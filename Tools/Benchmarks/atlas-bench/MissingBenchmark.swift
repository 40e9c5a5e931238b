import EventLog
import Foundation
import Inventory
import Sync

/// `atlas-bench missing [--items 100000] [--missing 1000] [--queries 300] [--processes 20] [--atlas PATH]`
///
/// One tenant synced twice from offline exports of random GUIDs (~580-byte lines), the second
/// time without `--missing` of its `--items` items. Prints:
/// 1. `missing` in process: p50 and p99 over `--queries` queries, and resident memory;
/// 2. the whole `atlas missing` process (the built `atlas` beside this executable, or
///    `--atlas`) against a process that opens no store (`atlas --version`): median wall time
///    of `--processes` runs each, their ratio, and the children's peak resident memory.
enum MissingBenchmark {
    static let usage = "missing [--items 100000] [--missing 1000] [--queries 300] [--processes 20] [--atlas PATH]"

    static func run(_ args: [String]) async throws -> Int32 {
        let o = try Options(args, allowed: ["items", "missing", "queries", "processes", "atlas"])
        let items = try o.int("items", default: 100_000)
        let gone = try o.int("missing", default: 1_000)
        guard gone < items else { throw UsageError(message: "--missing must be below --items") }
        let queries = try o.int("queries", default: 300)
        let processes = try o.int("processes", default: 20)
        let atlas = o.string("atlas") ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("atlas").path
        guard FileManager.default.isExecutableFile(atPath: atlas) else {
            throw UsageError(message: "no atlas executable at \(atlas) (build it, or give --atlas PATH)")
        }
        let dir = try Bench.tempDir("missing")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try LMDBEventStore.open(path: dir + "/store", options: .init(
            create: true, durability: .relaxed, projections: InventoryProjections.all, stateTables: SyncRunner.stateTables))
        let runner = SyncRunner(store: store)
        let selection = try InventoryBenchmark.selection()
        // Every (items / gone)-th item is absent from the second export.
        let stride = items / gone
        let export = dir + "/export.ndjson"
        _ = try InventoryBenchmark.writeExport(path: export, items: items, randomIDs: true, idSeed: 7)
        _ = try await runner.run(tenant: "contoso", selection: selection, source: OfflineExportSource(path: export))
        _ = try InventoryBenchmark.writeExport(path: export, items: items, randomIDs: true, idSeed: 7,
                                               skip: { $0 % stride == 0 && $0 / stride < gone })
        _ = try await runner.run(tenant: "contoso", selection: selection, source: OfflineExportSource(path: export))
        try? FileManager.default.removeItem(atPath: export)
        print("shape: 1 tenant × \(items) items (random GUIDs, ~580-byte lines), synced twice, \(gone) missing from the second sync")

        // 1. In process.
        let q = InventoryQueries(store: store)
        var samples: [Double] = []
        var found = 0
        let rssBefore = residentMiB()
        for _ in 0..<queries {
            let t = try ContinuousClock().measure { found = try q.missing(tenant: "contoso", selection: selection).missing.count }
            samples.append(Double(t.components.seconds) * 1000 + Double(t.components.attoseconds) / 1e15)
        }
        samples.sort()
        print(String(format: "in process: missing (%d found) p50 %.2f ms, p99 %.2f ms over %d queries; resident %.0f MiB before the queries, %.0f after",
                     found, Bench.percentile(samples, 0.5), Bench.percentile(samples, 0.99), queries, rssBefore, residentMiB()))

        // 2. Whole processes.
        let missingArgs = ["missing", "--store", dir + "/store", "--tenant", "contoso", "--selection-hash", selection.hash, "--format", "ndjson"]
        let missing = try (0..<processes).map { _ in try ChildRun.run(atlas, missingArgs) }
        let version = try (0..<processes).map { _ in try ChildRun.run(atlas, ["--version"]) }
        func median(_ xs: [Double]) -> Double { Bench.percentile(xs.sorted(), 0.5) }
        let m = median(missing.map(\.seconds)), v = median(version.map(\.seconds))
        // Memory in separate runs: sampling it takes CPU from the child.
        let missingPeak = try (0..<3).map { _ in try ChildRun.run(atlas, missingArgs, sampleEvery: 500).peakMiB }.max() ?? 0
        let versionPeak = try (0..<3).map { _ in try ChildRun.run(atlas, ["--version"], sampleEvery: 500).peakMiB }.max() ?? 0
        print(String(format: "whole process: `atlas missing` median %.1f ms (peak resident %.0f MiB), `atlas --version` median %.1f ms (%.0f MiB): %.2f×",
                     m * 1000, missingPeak, v * 1000, versionPeak, m / max(v, 1e-9)))
        guard missing.allSatisfy({ $0.status == 0 }) else {
            print("atlas missing failed: exit \(missing.map(\.status))")
            return 1
        }
        return 0
    }

    /// This process's resident memory now (VmRSS), in MiB.
    static func residentMiB() -> Double {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }
}
