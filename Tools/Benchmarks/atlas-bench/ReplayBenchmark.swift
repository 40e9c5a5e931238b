import AtlasTesting
import EventLog
import Foundation
import Inventory
import ReplayKit

/// `atlas-bench replay [--events N] [--small N] [--dir DIR] [--tenants N] [--items N]`: builds
/// inventory logs of N and SMALL events and prints rebuild, verify, export, copy and as-of events/s and the
/// peak memory of each phase, to show that memory stays flat as the log grows.
enum ReplayBenchmark {
    struct Phase {
        var name: String
        var events: UInt64
        var seconds: Double
        var peakHWM: Int
        var peakAnon: Int
        var eventsPerSecond: Double { Double(events) / seconds }
    }

    static func main(_ args: [String]) async throws {
        var large = 1_000_000, small = 100_000, tenants = 5, items = 200, rebuilds = 1, keep = false
        var parent = FileManager.default.temporaryDirectory.path
        var i = 0
        while i < args.count {
            let v = i + 1 < args.count ? args[i + 1] : ""
            switch args[i] {
            case "--events": large = Int(v) ?? large
            case "--small": small = Int(v) ?? small
            case "--tenants": tenants = Int(v) ?? tenants
            case "--items": items = Int(v) ?? items
            case "--dir": parent = v
            case "--rebuilds": rebuilds = max(1, Int(v) ?? rebuilds)
            case "--keep": keep = v == "1"
            default:
                print("usage: atlas-bench replay [--events N] [--small N] [--tenants N] [--items N] [--dir DIR] [--rebuilds N] [--keep 1]")
                return
            }
            i += 2
        }
        var results: [(Int, [Phase])] = []
        for size in [small, large] where size > 0 {
            results.append((size, try await run(size: size, tenants: tenants, items: items, parent: parent, rebuilds: rebuilds, keep: keep)))
        }
        print("")
        print("size        phase      events/s     seconds  peak VmHWM  peak RssAnon")
        for (size, phases) in results {
            for p in phases {
                print(pad(String(size), 10), pad(p.name, 9), pad(String(Int(p.eventsPerSecond)), 11, right: true),
                      pad(String(format: "%.2f", p.seconds), 10, right: true),
                      pad(mib(p.peakHWM), 11, right: true), pad(mib(p.peakAnon), 13, right: true))
            }
        }
    }

    static func run(size: Int, tenants: Int, items: Int, parent: String, rebuilds: Int = 1, keep: Bool = false) async throws -> [Phase] {
        let dir = parent + "/atlas-bench-replay-\(getpid())-\(size)"
        try? FileManager.default.removeItem(atPath: dir)
        // `--keep 1` leaves the store for profiling a single phase (e.g. `atlas-replay rebuild`).
        defer { if keep { print("kept store: \(dir)") } else { try? FileManager.default.removeItem(atPath: dir) } }
        var phases: [Phase] = []
        let store = try LMDBEventStore.open(path: dir, options: .init(
            create: true, durability: .relaxed, projections: InventoryProjections.all, initialMapSize: 1 << 30))
        var gen = SyntheticInventory(tenants: (1...tenants).map { "tenant-\($0)" }, itemsPerType: items)
        let head = try await measure("populate", &phases) {
            try await gen.populate(store, events: size, batch: 20_000).position
        }
        let sizes = store.sizes()
        print("[\(size)] log: \(head) events, \(sizes.usedBytes >> 20) MiB used; avg envelope \(try store.rawEvents(from: 2, limit: 1)[0].json.count) bytes")

        // Repeated on request: run-to-run spread on a small VM is ±10 %.
        for r in 0..<rebuilds {
            // Which thread bounds a rebuild: CPU per event of the writer and of the read-ahead.
            let writer0 = Bench.threadCPUSeconds(named: "lmdb-writer"), ahead0 = LMDBEventStore.rebuildReadAheadCPUSeconds
            _ = try await measure(rebuilds == 1 ? "rebuild" : "rebuild\(r + 1)", &phases) {
                try store.rebuildSync(named: nil, progress: nil)
                return head
            }
            let writer = Bench.threadCPUSeconds(named: "lmdb-writer") - writer0, ahead = LMDBEventStore.rebuildReadAheadCPUSeconds - ahead0
            print(String(format: "    CPU per event: writer thread %.2f µs, read-ahead thread %.2f µs", writer * 1e6 / Double(head), ahead * 1e6 / Double(head)))
        }
        // Where rebuild time goes: reading, decoding, and each projection on its own.
        _ = try await measure("read", &phases) {
            var n: UInt64 = 0
            try store.forEachRawEvent(chunk: 8192) { _ in n += 1; return true }
            return n
        }
        _ = try await measure("decode", &phases) {
            var n: UInt64 = 0
            try store.forEachRawEvent(chunk: 8192) { raw in _ = try raw.decode(); n += 1; return true }
            return n
        }
        for p in InventoryProjections.all {
            _ = try await measure(String("rb:" + p.name.prefix(6)), &phases) {
                try store.rebuildSync(named: [p.name], progress: nil)
                return head
            }
        }
        _ = try await measure("verify", &phases) {
            let report = try await Verifier(store: store, scratchParent: parent).run()
            guard report.status == .ok else { throw ReplayFailure("verify failed: \(report.problems.first?.message ?? "")") }
            return report.eventsChecked
        }
        // The command an auditor runs: the built `atlas-replay verify`, its checks in a child
        // process (timed end to end, process start included; memory is this process's only).
        let replayTool = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("atlas-replay").path
        if FileManager.default.isExecutableFile(atPath: replayTool) {
            _ = try await measure("verifycli", &phases) {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: replayTool)
                p.arguments = ["verify", "--store", store.path, "--scratch-dir", parent]
                p.standardOutput = FileHandle.nullDevice
                try p.run()
                p.waitUntilExit()
                guard p.terminationReason == .exit && p.terminationStatus == 0 else {
                    throw ReplayFailure("atlas-replay verify exited \(p.terminationStatus)")
                }
                return head
            }
        }
        _ = try await measure("verifylog", &phases) {
            let v = Verifier(store: store, scratchParent: parent)
            v.compareProjections = false
            return try await v.run().eventsChecked
        }
        _ = try await measure("export", &phases) {
            let fd = open("/dev/null", O_WRONLY)
            defer { close(fd) }
            let out = BufferedWriter(fd: fd)
            return try Exporter.run(store, filter: .init(), to: out)
        }
        // `atlas-replay copy`: into a new store (durable commits, as the command makes them),
        // projections built as the events arrive.
        _ = try await measure("copy", &phases) {
            let target = parent + "/atlas-bench-copy-\(getpid())-\(size)"
            try? FileManager.default.removeItem(atPath: target)
            defer { try? FileManager.default.removeItem(atPath: target) }
            let copy = try LMDBEventStore.open(path: target, options: .init(
                create: true, projections: InventoryProjections.all, initialMapSize: 1 << 30, formatVersion: store.formatVersion))
            let outcome = try await LogCopy().run(from: store, to: copy)
            guard outcome.destinationHead == outcome.sourceHead else { throw ReplayFailure("the copy's head differs") }
            return outcome.copied
        }
        _ = try await measure("as-of", &phases) {
            let r = try await AsOf.replay(store, through: head / 2, scratchParent: parent)
            return r.replayed
        }
        return phases
    }

    /// Runs `body`, timing it and tracking its peak memory (VmHWM reset first; RssAnon sampled).
    static func measure(_ name: String, _ phases: inout [Phase], _ body: () async throws -> UInt64) async throws -> UInt64 {
        resetPeak()
        let sampler = AnonSampler()
        sampler.start()
        let start = DispatchTime.now().uptimeNanoseconds
        let events = try await body()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        sampler.stop()
        let p = Phase(name: name, events: events, seconds: seconds, peakHWM: status("VmHWM"), peakAnon: sampler.peak)
        print("  \(name): \(events) events in \(String(format: "%.2f", seconds)) s = \(Int(p.eventsPerSecond)) events/s; peak VmHWM \(mib(p.peakHWM)), peak RssAnon \(mib(p.peakAnon))")
        phases.append(p)
        return events
    }

    /// A /proc/self/status field in bytes.
    static func status(_ field: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            let kb = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) } ?? 0
            return kb * 1024
        }
        return 0
    }

    /// Resets VmHWM to the current RSS (Linux: write 5 to /proc/self/clear_refs).
    static func resetPeak() {
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        if fd >= 0 { _ = write(fd, "5", 1); close(fd) }
    }

    final class AnonSampler: @unchecked Sendable {
        private let lock = NSLock()
        private var running = true
        private var value = 0
        private var thread: Thread?
        var peak: Int { lock.lock(); defer { lock.unlock() }; return value }

        func start() {
            let t = Thread { [self] in
                while true {
                    let a = ReplayBenchmark.status("RssAnon")
                    lock.lock()
                    value = max(value, a)
                    let go = running
                    lock.unlock()
                    if !go { return }
                    usleep(20_000)
                }
            }
            thread = t
            t.start()
        }

        func stop() {
            lock.lock()
            running = false
            lock.unlock()
            value = max(value, ReplayBenchmark.status("RssAnon"))
        }
    }

    static func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }

    static func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
        s.count >= n ? s : (right ? String(repeating: " ", count: n - s.count) + s : s + String(repeating: " ", count: n - s.count))
    }
}
