import AtlasTesting
import CanonicalJSON
import EventLog
import EventLogPostgres
import Foundation
import Inventory
import Sync

/// `atlas-bench postgres [--items 200000] [--missing 2000] [--queries 30] [--postgres-url URL] [--backends lmdb,postgres]`
///
/// LMDB and PostgreSQL side by side in one run, over the same single-tenant offline export of
/// `--items` random GUIDs (~580-byte lines, members in Graph's order, as `ingest` builds it),
/// each store durable: the sync runner in this process into a fresh store, then a re-sync of
/// the export with `--missing` of its items absent (every other item unchanged), the rebuild
/// of every projection from the log, `missing` p50/p99 over `--queries` queries, and a
/// subscription's catch-up from position 0 to the head through `subscribe(after:)`, and a
/// caught-up follower's delay: `--pings` single-event appends 20 ms apart, each timed from the
/// call to `append` (so its commit is included) to the follower receiving the event. Prints
/// one line per figure and a table.
///
/// PostgreSQL is a throwaway local cluster this process starts (`initdb` in a temporary
/// directory, `synchronous_commit=on`, the server's default settings otherwise) with a fresh
/// database, or a fresh database's worth of server given by `--postgres-url` (its `atlas`
/// schema must not exist yet).
enum BackendsBenchmark {
    static let usage = "postgres [--items 200000] [--missing 2000] [--queries 30] [--pings 50] [--postgres-url URL] [--backends lmdb,postgres]"

    /// One backend's figures.
    struct Figures {
        var backend: String
        var fresh = 0.0, resync = 0.0, rebuild = 0.0, catchUp = 0.0
        var events = 0
        var missingP50 = 0.0, missingP99 = 0.0
        var found = 0
        var followP50 = 0.0, followP99 = 0.0, followMax = 0.0
    }

    static func run(_ args: [String]) async throws -> Int32 {
        let o = try Options(args, allowed: ["items", "missing", "queries", "pings", "postgres-url", "backends"])
        let items = try o.int("items", default: 200_000)
        let gone = try o.int("missing", default: 2_000)
        guard gone < items else { throw UsageError(message: "--missing must be below --items") }
        let queries = try o.int("queries", default: 30)
        let pings = max(1, try o.int("pings", default: 50))
        let backends = (o.string("backends") ?? "lmdb,postgres").split(separator: ",").map(String.init)
        for b in backends where b != "lmdb" && b != "postgres" {
            throw UsageError(message: "--backends lists lmdb and postgres, not \(b)")
        }
        let dir = try Bench.tempDir("backends")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let export = dir + "/export.ndjson", second = dir + "/second.ndjson"
        let bytes = try InventoryBenchmark.writeExport(path: export, items: items, randomIDs: true, idSeed: 3)
        let stride = items / gone
        _ = try InventoryBenchmark.writeExport(path: second, items: items, randomIDs: true, idSeed: 3,
                                               skip: { $0 % stride == 0 && $0 / stride < gone })
        print("shape: 1 tenant × \(items) items (random GUIDs, \(bytes / max(items, 1))-byte lines, members in Graph's order), "
            + "sync runner in process, durable; re-sync with \(gone) items absent")

        var all: [Figures] = []
        for backend in backends {
            let store: any EventStore
            var close: () -> Void = {}
            if backend == "lmdb" {
                store = try LMDBEventStore.open(path: dir + "/store", options: .init(
                    create: true, durability: .durable, projections: InventoryProjections.all, stateTables: SyncRunner.stateTables))
                print("lmdb: \(dir)/store")
            } else {
                let url: String
                if let given = o.string("postgres-url") {
                    url = given
                    print("postgres: the server given, durable (synchronous_commit=on)")
                } else {
                    let cluster = try await PostgresTestCluster.shared()
                    url = try await cluster.createDatabase("bench")
                    let version = (try? await cluster.query(url, "SHOW server_version"))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
                    print("postgres: throwaway local cluster (PostgreSQL \(version), default settings), durable (synchronous_commit=on)")
                }
                let pg = try PostgresEventStore.open(url: url, options: .init(
                    create: true, durability: .durable, projections: InventoryProjections.all, stateTables: SyncRunner.stateTables))
                store = pg
                close = { pg.close() }
            }
            all.append(try await measure(backend, store: store, items: items, export: export, second: second, queries: queries, pings: pings))
            close()
        }

        print("")
        print("| figure | " + all.map(\.backend).joined(separator: " | ") + " |")
        print("|---|" + all.map { _ in "---|" }.joined())
        func row(_ name: String, _ value: (Figures) -> String) {
            print("| \(name) | " + all.map(value).joined(separator: " | ") + " |")
        }
        row("ingest, fresh store (items/s)") { String(format: "%.0f", Double(items) / $0.fresh) }
        row("re-sync (items/s)") { String(format: "%.0f", Double(items) / $0.resync) }
        row("rebuild of every projection (events/s)") { String(format: "%.0f", Double($0.events) / $0.rebuild) }
        row("`missing` p50 / p99 (ms)") { String(format: "%.1f / %.1f", $0.missingP50, $0.missingP99) }
        row("catch-up from 0 (events/s)") { String(format: "%.0f", Double($0.events) / $0.catchUp) }
        row("follower: append call to delivery, p50 / p99 / max (ms)") {
            String(format: "%.1f / %.1f / %.1f", $0.followP50, $0.followP99, $0.followMax)
        }
        return 0
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    static func measure(_ backend: String, store: any EventStore, items: Int, export: String, second: String,
                        queries: Int, pings: Int) async throws -> Figures {
        var f = Figures(backend: backend)
        let runner = SyncRunner(store: store)
        let selection = try InventoryBenchmark.selection()
        let clock = ContinuousClock()
        f.fresh = seconds(try await clock.measure {
            _ = try await runner.run(tenant: "contoso", selection: selection, source: OfflineExportSource(path: export))
        })
        print(String(format: "%@: ingest into a fresh store %.2f s = %.0f items/s", backend, f.fresh, Double(items) / f.fresh))
        f.resync = seconds(try await clock.measure {
            _ = try await runner.run(tenant: "contoso", selection: selection, source: OfflineExportSource(path: second))
        })
        print(String(format: "%@: re-sync %.2f s = %.0f items/s", backend, f.resync, Double(items) / f.resync))
        f.events = Int(try store.head().position)

        f.rebuild = seconds(try await clock.measure { try await store.rebuildProjections(named: nil, progress: nil) })
        print(String(format: "%@: rebuild of every projection, %d events: %.2f s = %.0f events/s", backend, f.events, f.rebuild,
                     Double(f.events) / f.rebuild))

        let q = InventoryQueries(store: store)
        var samples: [Double] = []
        for _ in 0..<queries {
            let t = try clock.measure { f.found = try q.missing(tenant: "contoso", selection: selection).missing.count }
            samples.append(seconds(t) * 1000)
        }
        samples.sort()
        f.missingP50 = Bench.percentile(samples, 0.5)
        f.missingP99 = Bench.percentile(samples, 0.99)
        print(String(format: "%@: missing (%d found) p50 %.2f ms, p99 %.2f ms over %d queries", backend, f.found, f.missingP50,
                     f.missingP99, queries))

        let sub = try store.subscribe(after: 0, filter: .all, options: .init())
        var count = 0
        var bytes = 0
        f.catchUp = seconds(try await clock.measure {
            for try await e in sub {
                bytes &+= e.json.count
                count += 1
                if count == f.events { break }
            }
        })
        print(String(format: "%@: catch-up from 0, %d events (%d MiB of envelopes): %.2f s = %.0f events/s", backend, count, bytes >> 20,
                     f.catchUp, Double(count) / f.catchUp))
        try await sub.close()

        // A caught-up follower (woken by the store's signal: LISTEN/NOTIFY on PostgreSQL, the
        // lock file's changes on LMDB) and single-event appends 20 ms apart.
        let follower = try store.subscribe(after: try store.head().position, filter: .all, options: .init())
        let arrivals = Arrivals()
        let reader = Task {
            var n = 0
            for try await e in follower {
                arrivals.note(e.position)
                n += 1
                if n == pings { break }
            }
        }
        var started: [UInt64: ContinuousClock.Instant] = [:]
        for i in 0..<pings {
            let start = clock.now
            let e = EventEnvelope(id: .generate(), type: "bench.ping", schema: 1, tenant: "contoso", recordedAt: .now(),
                                  correlationID: "bench", data: ["n": .number(Double(i))])
            let r = try await store.append([e])
            started[r.positions[0]] = start
            try await Task.sleep(for: .milliseconds(20))
        }
        try await reader.value
        try await follower.close()
        let delays = started.compactMap { p, t in arrivals.at(p).map { seconds($0 - t) * 1000 } }.sorted()
        f.followP50 = Bench.percentile(delays, 0.5)
        f.followP99 = Bench.percentile(delays, 0.99)
        f.followMax = delays.last ?? 0
        print(String(format: "%@: follower, %d appends 20 ms apart: append call to delivery p50 %.1f ms, p99 %.1f ms, max %.1f ms",
                     backend, delays.count, f.followP50, f.followP99, f.followMax))
        return f
    }
}

/// When a follower received each position.
private final class Arrivals: @unchecked Sendable {
    private let lock = NSLock()
    private var times: [UInt64: ContinuousClock.Instant] = [:]

    func note(_ position: UInt64) {
        let now = ContinuousClock.now
        lock.withLock { times[position] = now }
    }

    func at(_ position: UInt64) -> ContinuousClock.Instant? {
        lock.withLock { times[position] }
    }
}
