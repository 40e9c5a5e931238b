import CanonicalJSON
import EventLog
import Foundation
import GraphSimulator
import Inventory
import Sync

/// `atlas-bench graph [--tenants 50] [--items 2000] [--page-size 100] [--external-simulator 1] [--offline-reference 1]`
///
/// Syncs N simulated tenants × M items each concurrently through the Graph simulator (real HTTP
/// on loopback, token endpoint, paging) into one store, and prints items/s, commits/s (group
/// commit at work: many runs share each commit) and the process's peak memory.
///
/// `--external-simulator 1` runs the simulator as its own process (the built `graph-simulator`
/// beside this executable, serving the same seed), as in production, and prints the CPU per item
/// of each side: this process (Atlas) from `getrusage`, the simulator from `/proc/PID/stat`.
/// `--offline-reference 1` then syncs the same tenants' items from offline exports into a fresh
/// store (same concurrency) and prints Atlas's CPU per item on that path, and the ratio.
enum GraphBenchmark {
    static let usage = "graph [--tenants 50] [--items 2000] [--page-size 100] [--external-simulator 1] [--offline-reference 1]"

    static func run(_ args: [String]) async throws -> Int32 {
        let tenantCount = Bench.option(args, "tenants", default: 50)
        let items = Bench.option(args, "items", default: 2000)
        let pageSize = Bench.option(args, "page-size", default: 100)
        let external = Bench.option(args, "external-simulator", default: 0) == 1
        let offlineReference = Bench.option(args, "offline-reference", default: 0) == 1
        let tenants = (0..<tenantCount).map { "tenant-\($0).onmicrosoft.com" }
        // Each tenant holds its M items in one collection (deviceConfigurations).
        let collection = SimulatedCollection.intuneDefault(key: "deviceConfiguration")!
        let secret = "bench-secret-\(UUID().uuidString)"
        var seed = SimulatorSeed.generate(tenants: tenants, itemsPerCollection: items, collections: [collection], seed: 11)
        seed = SimulatorSeed(tenants: seed.tenants.map {
            SimulatedTenant(id: $0.id, clientID: "bench", clientSecret: secret, collections: $0.collections)
        })
        let dir = try Bench.tempDir("graph")
        defer { try? FileManager.default.removeItem(atPath: dir) }

        // The simulator: in this process, or a `graph-simulator` process serving the same seed.
        var sim: GraphSimulator?
        var child: SimulatorProcess?
        let base: String
        if external {
            let seedPath = dir + "/seed.json"
            try seed.jsonData().write(to: URL(fileURLWithPath: seedPath))
            let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
                .appendingPathComponent("graph-simulator").path
            guard FileManager.default.isExecutableFile(atPath: binary) else {
                throw UsageError(message: "no graph-simulator executable at \(binary) (build it: swift build -c release)")
            }
            let p = try SimulatorProcess(binary: binary, arguments: ["--seed", seedPath, "--page-size", String(pageSize)])
            child = p
            base = p.base
        } else {
            let s = GraphSimulator(seed: seed, configuration: .init(pageSizeOverride: pageSize))
            sim = s
            base = try await s.start()
        }
        let store = try LMDBEventStore.open(path: dir + "/store", options: .init(
            create: true, projections: InventoryProjections.all, stateTables: SyncRunner.stateTables))
        let runner = SyncRunner(store: store, options: .init(globalLimit: tenantCount, perTenantLimit: 1))
        let source = GraphSource(credentials: try GraphCredentials(clientID: "bench", clientSecret: secret),
                                 endpoints: try GraphEndpoints(graphBaseURL: base, loginBaseURL: base))
        let selection = try SelectionParser.parse(#"{"policy_types":["deviceConfiguration"]}"#).selection
        let commitsBefore = store.commitCount
        var observed = 0
        var statuses: [String: Int] = [:]
        let cpu0 = LogBenchmark.cpuSeconds(), simCPU0 = child?.cpuSeconds() ?? 0
        let seconds = try await Bench.time {
            let results = await withTaskGroup(of: Result<SyncSummary, any Error>.self) { group in
                for t in tenants {
                    group.addTask {
                        do { return .success(try await runner.run(tenant: t, selection: selection, source: source)) } catch { return .failure(error) }
                    }
                }
                var out: [Result<SyncSummary, any Error>] = []
                for await r in group { out.append(r) }
                return out
            }
            for r in results {
                let s = try r.get()
                observed += s.observed
                statuses[s.status.rawValue, default: 0] += 1
            }
        }
        let atlasCPU = LogBenchmark.cpuSeconds() - cpu0, simCPU = (child?.cpuSeconds() ?? 0) - simCPU0
        let commits = store.commitCount - commitsBefore
        try await source.shutdown()
        await sim?.stop()
        let simPeak = child?.peakMiB() ?? 0
        child?.stop()
        let perItem = { (cpu: Double) in cpu * 1e6 / Double(max(observed, 1)) }
        print("graph sync: \(tenantCount) tenants × \(items) items (random GUIDs), page size \(pageSize), simulator \(external ? "in its own process" : "in this process"), runs \(statuses)")
        print(String(format: "  %d items in %.2f s = %.0f items/s", observed, seconds, Double(observed) / seconds))
        print(String(format: "  %d commits = %.0f commits/s, %.0f items per commit (%d appends issued by runs)",
                     commits, Double(commits) / seconds, Double(observed) / Double(max(commits, 1)),
                     tenantCount * (items / pageSize + 3)))
        if external {
            print(String(format: "  CPU per item: Atlas %.1f µs, simulator %.1f µs (%.2f and %.2f cores busy)",
                         perItem(atlasCPU), perItem(simCPU), atlasCPU / seconds, simCPU / seconds))
            print(String(format: "  peak memory: Atlas %.0f MiB, simulator %.0f MiB", Bench.peakMemoryMiB(), simPeak))
        } else {
            print(String(format: "  CPU per item (Atlas and simulator together) %.1f µs; peak memory: %.0f MiB (simulator included)",
                         perItem(atlasCPU), Bench.peakMemoryMiB()))
        }
        if offlineReference {
            let offline = try await offlineCPU(seed: seed, collection: collection, dir: dir, selection: selection)
            print(String(format: "  offline reference (the same %d items from offline exports, %d runs at once, fresh store): %.0f items/s, Atlas CPU %.1f µs/item; Graph path / offline path = %.2f×",
                         offline.items, tenantCount, Double(offline.items) / offline.seconds, offline.cpuPerItem,
                         perItem(atlasCPU) / max(offline.cpuPerItem, 1e-9)))
        }
        return 0
    }

    /// Syncs every tenant of `seed` from an offline export of its items (the objects the
    /// simulator serves, with the same member order) into a fresh store, all runs at once:
    /// items, seconds and this process's CPU per item (export writing excluded).
    static func offlineCPU(seed: SimulatorSeed, collection: SimulatedCollection, dir: String,
                           selection: Selection) async throws -> (items: Int, seconds: Double, cpuPerItem: Double) {
        var exports: [(String, String)] = []
        for tenant in seed.tenants {
            let objects = tenant.collections.values.first ?? []  // one collection per tenant
            var buffer = [UInt8]()
            for object in objects {
                buffer += #"{"policy_type":"deviceConfiguration","item":"#.utf8
                buffer += try CanonicalJSON.serialize(object)
                buffer += "}\n".utf8
            }
            buffer += #"{"policy_type":"deviceConfiguration","enumerated":{"count":\#(objects.count)}}"#.utf8
            buffer.append(10)
            let path = dir + "/offline-\(tenant.id).ndjson"
            try Data(buffer).write(to: URL(fileURLWithPath: path))
            exports.append((tenant.id, path))
        }
        let store = try LMDBEventStore.open(path: dir + "/offline-store", options: .init(
            create: true, projections: InventoryProjections.all, stateTables: SyncRunner.stateTables))
        let runner = SyncRunner(store: store, options: .init(globalLimit: exports.count, perTenantLimit: 1))
        var observed = 0
        let cpu0 = LogBenchmark.cpuSeconds()
        let seconds = try await Bench.time {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for (tenant, path) in exports {
                    group.addTask { try await runner.run(tenant: tenant, selection: selection, source: OfflineExportSource(path: path)).observed }
                }
                for try await n in group { observed += n }
            }
        }
        let cpu = LogBenchmark.cpuSeconds() - cpu0
        return (observed, seconds, cpu * 1e6 / Double(max(observed, 1)))
    }
}

/// The built `graph-simulator` running as a child process: its base URL (from the one line it
/// prints), its CPU time and peak memory (from /proc), and stopping it.
final class SimulatorProcess {
    let process = Process()
    let base: String

    init(binary: String, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        // The first line is `listening on http://127.0.0.1:PORT`.
        var line = [UInt8]()
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            guard let b = byte.first else { break }
            if b == 10 { break }
            line.append(b)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("listening on ") else {
            process.terminate()
            throw UsageError(message: "graph-simulator printed \"\(text)\", not its address")
        }
        base = String(text.dropFirst("listening on ".count))
    }

    /// User and system CPU seconds of the child so far (/proc/PID/stat fields 14 and 15).
    func cpuSeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { return 0 }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The child's peak resident memory (VmHWM), in MiB.
    func peakMiB() -> Double {
        guard let s = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
              let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}
