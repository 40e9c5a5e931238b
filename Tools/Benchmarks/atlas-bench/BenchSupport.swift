import Foundation

/// Small helpers shared by the benchmarks.
enum Bench {
    /// Reads `--name value` from `args`.
    static func option(_ args: [String], _ name: String, default value: Int) -> Int {
        guard let i = args.firstIndex(of: "--\(name)"), i + 1 < args.count, let v = Int(args[i + 1]) else { return value }
        return v
    }

    static func stringOption(_ args: [String], _ name: String) -> String? {
        guard let i = args.firstIndex(of: "--\(name)"), i + 1 < args.count else { return nil }
        return args[i + 1]
    }

    /// Seconds taken by `body`.
    static func time(_ body: () async throws -> Void) async rethrows -> Double {
        let start = ContinuousClock.now
        try await body()
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// A fresh temporary directory.
    static func tempDir(_ label: String) throws -> String {
        let dir = NSTemporaryDirectory() + "atlas-bench-\(label)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// CPU seconds used so far by this process's threads whose name starts with `prefix`, e.g.
    /// the log's writer thread (from /proc/self/task/*/schedstat, in nanoseconds; from the
    /// clock ticks of /proc/self/task/*/stat where that is missing).
    static func threadCPUSeconds(named prefix: String) -> Double {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return 0 }
        var total = 0.0
        for t in tasks {
            guard let comm = try? String(contentsOfFile: "/proc/self/task/\(t)/comm", encoding: .utf8), comm.hasPrefix(prefix)
            else { continue }
            // Nanoseconds on the CPU, when the kernel keeps scheduler statistics.
            if let sched = try? String(contentsOfFile: "/proc/self/task/\(t)/schedstat", encoding: .utf8),
               let ns = sched.split(separator: " ").first.flatMap({ Double($0) }) {
                total += ns / 1e9
                continue
            }
            guard let stat = try? String(contentsOfFile: "/proc/self/task/\(t)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // Fields after the command: state is field 3; utime and stime are fields 14 and 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { continue }
            total += (u + s) / ticks
        }
        return total
    }

    /// Peak resident memory of this process, in MiB (VmHWM).
    static func peakMemoryMiB() -> Double {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        let kb = Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        return kb / 1024
    }

    static func rate(_ count: Int, _ seconds: Double) -> String {
        String(format: "%.0f/s", Double(count) / seconds)
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
    }
}
