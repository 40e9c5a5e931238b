import CanonicalJSON
import EventLog
import Foundation

/// `atlas-bench subscriptions`: catch-up read rate, cross-process wake-up latency, idle CPU.
enum SubscriptionBenchmark {
    static let usage = "subscriptions [--events N] [--samples N] [--interval-ms N] [--idle-seconds N] [--store DIR]"
    static let writerUsage = "subscription-writer --store DIR --count N --interval-ms N   (child of `subscriptions`)"

    static func options(_ args: [String]) -> [String: String] {
        var o: [String: String] = [:]
        var i = 0
        while i + 1 < args.count {
            if args[i].hasPrefix("--") { o[String(args[i].dropFirst(2))] = args[i + 1] }
            i += 2
        }
        return o
    }

    static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    static func cpuSeconds() -> Double {
        var u = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
        return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec)
            + Double(u.ru_stime.tv_usec) / 1e6
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }

    static func f(_ x: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }

    static func run(_ args: [String]) async throws -> Int32 {
        let o = options(args)
        let total = Int(o["events"] ?? "") ?? 1_000_000
        let samples = Int(o["samples"] ?? "") ?? 500
        let intervalMs = Int(o["interval-ms"] ?? "") ?? 10
        let idleSeconds = Double(o["idle-seconds"] ?? "") ?? 3
        let dir = o["store"] ?? (NSTemporaryDirectory() + "/atlas-bench-subs-\(getpid())")
        try? FileManager.default.removeItem(atPath: dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/store"
        let store = try LMDBEventStore.open(path: path, options: .init(create: true, durability: .relaxed))

        // 1. Fill.
        var t = Date()
        let batch = 10_000
        var n = 0
        while n < total {
            let k = min(batch, total - n)
            try await store.append((0..<k).map { i in
                EventEnvelope(type: (n + i) % 10 == 0 ? "bench.rare" : "bench.common", tenant: (n + i) % 10 == 0 ? "t-rare" : "t-main",
                              data: ["n": .number(Double(n + i)), "name": .string("item \(n + i)")])
            })
            n += k
        }
        let fillSeconds = Date().timeIntervalSince(t)
        let size = store.sizes()
        print("fill: \(total) events in \(f(fillSeconds)) s (\(Int(Double(total) / fillSeconds)) events/s), data file \(size.fileBytes >> 20) MiB")

        // 2. Catch-up from position 1: raw, decoded, filtered.
        func catchUp(_ label: String, filter: SubscriptionFilter = .all, decode: Bool = false, limit: Int) async throws {
            let sub = try store.subscribe(after: 0, filter: filter)
            let start = monotonicNanos()
            var count = 0
            var bytes = 0
            let expected = limit
            if decode {
                for try await e in sub.decoded() {
                    bytes &+= e.envelope.type.utf8.count
                    count += 1
                    if count == expected { break }
                }
            } else {
                for try await e in sub {
                    bytes &+= e.json.count
                    count += 1
                    if count == expected { break }
                }
            }
            let seconds = Double(monotonicNanos() - start) / 1e9
            let s = sub.statistics
            print("catch-up \(label): \(count) events in \(f(seconds, 3)) s = \(Int(Double(count) / seconds)) events/s "
                + "(\(s.chunksRead) read transactions, at most \(s.maxBufferedEvents) events in memory)")
        }
        try await catchUp("raw", limit: total)
        try await catchUp("raw again (warm)", limit: total)
        try await catchUp("filtered tenant=t-rare (10%)", filter: .init(tenant: "t-rare"), limit: total / 10)
        try await catchUp("decoded RecordedEvent", decode: true, limit: min(total, 200_000))

        // 3. Idle CPU of a caught-up subscriber.
        let idleSub = try store.subscribe(after: try store.head().position)
        let idleTask = Task { for try await _ in idleSub {} }
        try await Task.sleep(for: .milliseconds(200))
        let cpu0 = cpuSeconds()
        t = Date()
        try await Task.sleep(for: .seconds(idleSeconds))
        let cpu1 = cpuSeconds()
        let wall = Date().timeIntervalSince(t)
        print("idle: \(f((cpu1 - cpu0) * 1000, 3)) ms CPU over \(f(wall)) s wall (\(f((cpu1 - cpu0) / wall * 100, 4)) %), "
            + "wake mode \(idleSub.wakeMode), \(idleSub.statistics.wakeUps) wake-ups")
        idleTask.cancel()
        _ = try? await idleTask.value

        // 4. Wake-up latency: a child process appends one event every interval; we deliver.
        let head = try store.head().position
        let sub = try store.subscribe(after: head)
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let child = Process()
        child.executableURL = URL(fileURLWithPath: exe)
        child.arguments = ["subscription-writer", "--store", path, "--count", "\(samples)", "--interval-ms", "\(intervalMs)"]
        let pipe = Pipe()
        child.standardOutput = pipe
        let collector = Task.detached { pipe.fileHandleForReading.readDataToEndOfFile() }
        var delivered: [UInt64: UInt64] = [:]
        try child.run()
        for try await e in sub {
            delivered[e.position] = monotonicNanos()
            if delivered.count == samples { break }
        }
        child.waitUntilExit()
        let out = String(decoding: await collector.value, as: UTF8.self)
        var fromCall: [Double] = [], fromReturn: [Double] = []
        for line in out.split(separator: "\n") {
            let p = line.split(separator: " ")
            guard p.count == 4, p[0] == "c", let pos = UInt64(p[1]), let t0 = UInt64(p[2]), let t1 = UInt64(p[3]),
                  let tr = delivered[pos] else { continue }
            fromCall.append(Double(Int64(bitPattern: tr &- t0)) / 1e6)
            fromReturn.append(Double(Int64(bitPattern: tr &- t1)) / 1e6)
        }
        fromCall.sort()
        fromReturn.sort()
        print("wake-up latency over \(fromCall.count) commits (other process, one event per \(intervalMs) ms, durable commits, \(sub.wakeMode)):")
        print("  append() called -> delivered:   p50 \(f(percentile(fromCall, 0.5), 3)) ms  p99 \(f(percentile(fromCall, 0.99), 3)) ms  max \(f(fromCall.last ?? .nan, 3)) ms")
        print("  append() returned -> delivered: p50 \(f(percentile(fromReturn, 0.5), 3)) ms  p99 \(f(percentile(fromReturn, 0.99), 3)) ms  max \(f(fromReturn.last ?? .nan, 3)) ms")
        return 0
    }

    /// The latency writer: appends one event every interval and prints
    /// `c <position> <t before append> <t after append>` (CLOCK_MONOTONIC ns).
    static func writer(_ args: [String]) async throws -> Int32 {
        let o = options(args)
        guard let path = o["store"] else { return 64 }
        let count = Int(o["count"] ?? "") ?? 500
        let interval = Int(o["interval-ms"] ?? "") ?? 10
        let store = try LMDBEventStore.open(path: path)
        var lines = ""
        for i in 0..<count {
            let t0 = monotonicNanos()
            let r = try await store.append([EventEnvelope(type: "bench.latency", tenant: "t", data: ["i": .number(Double(i))])])
            let t1 = monotonicNanos()
            lines += "c \(r.positions[0]) \(t0) \(t1)\n"
            try await Task.sleep(for: .milliseconds(interval))
        }
        FileHandle.standardOutput.write(Data(lines.utf8))
        return 0
    }
}
