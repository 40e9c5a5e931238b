import CanonicalJSON
import EventLog
import Foundation

/// `atlas-bench log`: append and scan throughput of the event log, and its size on disk.
enum LogBenchmark {
    static let usage = "log [--events N=1000000] [--batch B=1000] [--writers W=1] [--dir D]"

    static func run(_ argv: [String]) async throws -> Int32 {
        let o = try Options(argv, allowed: ["events", "batch", "writers", "dir"])
        let n = try o.int("events", default: 1_000_000)
        let batch = try o.int("batch", default: 1000)
        let writers = try o.int("writers", default: 1)
        let base = o.string("dir") ?? (NSTemporaryDirectory() + "/atlas-bench-\(getpid())")
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { if o.string("dir") == nil { try? FileManager.default.removeItem(atPath: base) } }

        print("atlas-bench log: \(n) events in batches of \(batch), \(writers) writer task(s), under \(base)")
        let sample = makeBatch(tenant: "contoso", run: 0, start: 0, count: 1)[0]
        let jsonBytes = try sample.canonicalJSON().count
        print("sample envelope (\(jsonBytes) bytes): \(String(decoding: try sample.canonicalJSON(), as: UTF8.self))")

        let durable = try await appendRun(path: base + "/durable", durability: .durable, n: n, batch: batch, writers: writers)
        report("durable append", durable.events, durable.seconds)
        let relaxed = try await appendRun(path: base + "/relaxed", durability: .relaxed, n: n, batch: batch, writers: writers)
        report("relaxed append", relaxed.events, relaxed.seconds)

        // Full forward scan of the durable store, in chunks, counting bytes.
        let store = try LMDBEventStore.open(path: base + "/durable")
        var scanned = 0, bytes = 0
        var times: [Double] = []
        var cpu: [Double] = []
        for _ in 0..<3 {
            scanned = 0
            bytes = 0
            let c0 = cpuSeconds(thread: true)
            defer { cpu.append(cpuSeconds(thread: true) - c0) }
            let t0 = DispatchTime.now()
            try store.forEachRawEvent(chunk: 4096) { e in
                scanned += 1
                bytes += e.json.count
                return true
            }
            times.append(seconds(since: t0))
        }
        times.sort()
        cpu.sort()
        print(String(format: "  (scan CPU: %.2f s = %.0f events per CPU-second)", cpu[1], Double(scanned) / cpu[1]))
        report("forward scan (median of 3)", scanned, times[1], extra: String(format: ", %.0f MB/s of JSON; best %.0f events/s",
                                                                 Double(bytes) / times[1] / 1e6, Double(scanned) / times[0]))

        let sizes = store.sizes()
        let jsonPerEvent = Double(bytes) / Double(scanned)
        let diskPerEvent = Double(sizes.usedBytes) / Double(scanned)
        print(String(format: "disk: %.1f bytes/event used in data.mdb (%d bytes used, file %d bytes) vs %.1f JSON bytes/event: ratio %.2f",
                     diskPerEvent, sizes.usedBytes, sizes.fileBytes, jsonPerEvent, diskPerEvent / jsonPerEvent))
        return 0
    }

    static func report(_ what: String, _ events: Int, _ seconds: Double, extra: String = "") {
        print(String(format: "%@: %d events in %.2f s = %.0f events/s%@", what, events, seconds, Double(events) / seconds, extra))
    }

    /// CPU seconds (user + system) used so far by the process, or by the calling thread.
    static func cpuSeconds(thread: Bool = false) -> Double {
        var u = rusage()
        getrusage(thread ? 1 /* RUSAGE_THREAD */ : RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
    }

    static func seconds(since t0: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - t0.uptimeNanoseconds) / 1e9
    }

    /// Appends `n` events in batches from `writers` concurrent tasks; returns the wall time.
    static func appendRun(path: String, durability: Durability, n: Int, batch: Int, writers: Int) async throws -> (events: Int, seconds: Double) {
        try? FileManager.default.removeItem(atPath: path)
        let store = try LMDBEventStore.open(path: path, options: .init(create: true, durability: durability, initialMapSize: 1 << 30))
        let batches = (n + batch - 1) / batch
        let inAppend = AppendClock()
        let c0 = cpuSeconds()
        let t0 = DispatchTime.now()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<writers {
                group.addTask {
                    var b = w
                    while b < batches {
                        let count = min(batch, n - b * batch)
                        let events = makeBatch(tenant: "tenant-\(b % 8)", run: b / 100, start: b * batch, count: count)
                        let a = DispatchTime.now()
                        _ = try await store.append(events)
                        inAppend.add(seconds(since: a))
                        b += writers
                    }
                }
            }
            try await group.waitForAll()
        }
        let s = seconds(since: t0)
        let cpu = cpuSeconds() - c0
        print(String(format: "  (%@: process CPU %.2f s = %.0f events per CPU-second, including envelope building)",
                     durability.rawValue, cpu, Double(n) / cpu))
        if writers == 1 {
            print(String(format: "  (%@: %.2f s of it inside append() = %.0f events/s; the rest builds the envelopes)",
                         durability.rawValue, inAppend.total, Double(n) / inAppend.total))
        }
        let head = try store.head().position
        guard head == UInt64(n) else { throw UsageError(message: "expected \(n) events, head is \(head)") }
        if durability == .relaxed { try store.flush() }
        return (n, s)
    }

    /// Realistic inventory observations: ~200-byte canonical envelopes.
    static func makeBatch(tenant: String, run: Int, start: Int, count: Int) -> [EventEnvelope] {
        let now = Timestamp.now()
        return (0..<count).map { i in
            let k = start + i
            return EventEnvelope(
                id: .generate(now: now), type: "inventory.item_observed", schema: 1, tenant: tenant,
                recordedAt: now, correlationID: "run-\(run)",
                data: [
                    "item": .string("i\(k)"),
                    "kind": .string(k % 5 == 0 ? "folder" : "file"),
                    "size": .number(Double(k &* 7919 % 1_000_000)),
                    "path": .string("/d/\(k % 97)/f\(k).txt"),
                    "mtime": .number(Double(1_767_000_000 + k % 86_400)),
                    "hidden": .bool(k % 11 == 0),
                ])
        }
    }
}

/// Sums time spent inside `append` across tasks.
final class AppendClock: @unchecked Sendable {
    private let lock = NSLock()
    private var sum = 0.0
    func add(_ s: Double) { lock.lock(); sum += s; lock.unlock() }
    var total: Double { lock.lock(); defer { lock.unlock() }; return sum }
}
