import AtlasTesting
import EventLog
import EventLogPostgres
import Foundation
import Inventory
import Sync

/// `atlas-bench ingest [--items 200000] [--runs 3] [--atlas PATH] [--backend lmdb|postgres] [--postgres-url URL]`
///
/// Durable ingest as users run it: the whole `atlas sync --from-file` process (the `atlas` built
/// beside this executable, or `--atlas`), timed from spawn to exit, over a single-tenant offline
/// export of `--items` random GUIDs (~580-byte lines, members in Graph's order): first into a
/// fresh store, then a re-sync of the same export into that store (every item unchanged).
/// `--runs` fresh stores, one after another. Prints items/s, the child's CPU per item (user and
/// system, from `wait4`) and its peak resident memory.
///
/// With `--backend postgres` the same export goes into a fresh database per run on the server
/// `--postgres-url` names (a throwaway local cluster when absent), synced in this process by
/// the sync runner, durable (`synchronous_commit=on`). After each fresh-store ingest it also
/// prints the server's own time for the rows that ingest wrote (``PostgresFloor``): the most
/// items/s any client could reach on that server.
enum IngestBenchmark {
    static let usage = "ingest [--items 200000] [--runs 3] [--atlas PATH] [--backend lmdb|postgres] [--postgres-url URL]"

    static func run(_ args: [String]) async throws -> Int32 {
        let o = try Options(args, allowed: ["items", "runs", "atlas", "backend", "postgres-url"])
        let items = try o.int("items", default: 200_000)
        let runs = try o.int("runs", default: 3)
        switch o.string("backend") ?? "lmdb" {
        case "lmdb": break
        case "postgres": return try await runPostgres(items: items, runs: runs, url: o.string("postgres-url"))
        case let other: throw UsageError(message: "--backend must be lmdb or postgres, not \(other)")
        }
        let atlas = o.string("atlas") ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("atlas").path
        guard FileManager.default.isExecutableFile(atPath: atlas) else {
            throw UsageError(message: "no atlas executable at \(atlas) (build it, or give --atlas PATH)")
        }
        let dir = try Bench.tempDir("ingest")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let export = dir + "/export.ndjson"
        let bytes = try InventoryBenchmark.writeExport(path: export, items: items, randomIDs: true, idSeed: 3)
        print("shape: 1 tenant × \(items) items (random GUIDs, \(bytes / max(items, 1))-byte lines, members in Graph's order), `atlas sync --from-file`, durable")
        let selection = #"{"categories":["configuration","compliance"]}"#
        var failed = false
        for run in 1...runs {
            let store = dir + "/store-\(run)"
            for label in ["fresh store", "re-sync"] {
                let r = try ChildRun.run(atlas, ["sync", "--store", store, "--tenant", "contoso", "--selection", selection, "--from-file", export], sampleEvery: 5_000)
                failed = failed || r.status != 0
                print(String(format: "  run %d, %@: %.2f s = %.0f items/s; CPU %.1f µs/item (%.2f cores busy); peak resident %.0f MiB%@",
                             run, label, r.seconds, Double(items) / r.seconds, r.cpu * 1e6 / Double(items), r.cpu / r.seconds,
                             r.peakMiB, r.status == 0 ? "" : " [exit \(r.status)]"))
            }
            try? FileManager.default.removeItem(atPath: store)
        }
        return failed ? 1 : 0
    }

    /// The PostgreSQL figure: `atlas sync --from-file`'s work (the sync runner over the offline
    /// export) in this process, into a fresh database per run.
    static func runPostgres(items: Int, runs: Int, url: String?) async throws -> Int32 {
        let dir = try Bench.tempDir("ingest-pg")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let export = dir + "/export.ndjson"
        let bytes = try InventoryBenchmark.writeExport(path: export, items: items, randomIDs: true, idSeed: 3)
        let cluster: PostgresTestCluster? = url == nil ? try await PostgresTestCluster.shared() : nil
        print("shape: 1 tenant × \(items) items (random GUIDs, \(bytes / max(items, 1))-byte lines), sync runner in process, PostgreSQL \(url == nil ? "local throwaway cluster" : "server given"), durable (synchronous_commit=on)")
        let selection = try SelectionParser.parse(#"{"categories":["configuration","compliance"]}"#).selection
        for run in 1...runs {
            let database: String
            if let cluster { database = try await cluster.createDatabase("ingest") } else {
                database = try PostgresURL(parsing: url!).description
            }
            let store = try PostgresEventStore.open(url: database, options: .init(
                create: true, durability: .durable, projections: InventoryProjections.all, stateTables: SyncRunner.stateTables))
            let runner = SyncRunner(store: store)
            for label in ["fresh store", "re-sync"] {
                let start = ContinuousClock.now
                let summary = try await runner.run(tenant: "contoso", selection: selection, source: OfflineExportSource(path: export))
                let d = ContinuousClock.now - start
                let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
                print(String(format: "  run %d, %@: %.2f s = %.0f items/s (%d events appended)", run, label, seconds,
                             Double(items) / seconds, Int(try store.head().position)))
                _ = summary
                if label == "fresh store", let psql = cluster?.psql ?? (try? PostgresTestCluster.findTool("psql", near: nil)) {
                    let f = try PostgresFloor(psql: psql, url: cluster == nil ? url! : database).measure()
                    print(String(format: "  run %d, the server's own work for those rows (no client): %.2f s = %.0f items/s at most "
                        + "(lookups %.2f s, events %.2f s, event ids %.2f s, tenant index %.2f s, projection rows %.2f s, commit %.2f s)",
                        run, f.total, Double(items) / f.total, f.lookups, f.events, f.ids, f.tenants, f.projections, f.commit))
                }
            }
            store.close()
        }
        return 0
    }
}
