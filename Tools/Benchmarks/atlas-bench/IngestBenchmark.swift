import Foundation

/// `atlas-bench ingest [--items 200000] [--runs 3] [--atlas PATH]`
///
/// Durable ingest as users run it: the whole `atlas sync --from-file` process (the `atlas` built
/// beside this executable, or `--atlas`), timed from spawn to exit, over a single-tenant offline
/// export of `--items` random GUIDs (~580-byte lines, members in Graph's order): first into a
/// fresh store, then a re-sync of the same export into that store (every item unchanged).
/// `--runs` fresh stores, one after another. Prints items/s, the child's CPU per item (user and
/// system, from `wait4`) and its peak resident memory.
enum IngestBenchmark {
    static let usage = "ingest [--items 200000] [--runs 3] [--atlas PATH]"

    static func run(_ args: [String]) async throws -> Int32 {
        let o = try Options(args, allowed: ["items", "runs", "atlas"])
        let items = try o.int("items", default: 200_000)
        let runs = try o.int("runs", default: 3)
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
                let r = try spawn(atlas, ["sync", "--store", store, "--tenant", "contoso", "--selection", selection, "--from-file", export])
                failed = failed || r.status != 0
                print(String(format: "  run %d, %@: %.2f s = %.0f items/s; CPU %.1f µs/item (%.2f cores busy); peak resident %.0f MiB%@",
                             run, label, r.seconds, Double(items) / r.seconds, r.cpu * 1e6 / Double(items), r.cpu / r.seconds,
                             r.peakMiB, r.status == 0 ? "" : " [exit \(r.status)]"))
            }
            try? FileManager.default.removeItem(atPath: store)
        }
        return failed ? 1 : 0
    }

    /// Runs `path args` (output discarded) and waits for it: wall time, exit status, the child's
    /// CPU seconds (`wait4`) and peak resident memory.
    static func spawn(_ path: String, _ args: [String]) throws -> (seconds: Double, status: Int32, cpu: Double, peakMiB: Double) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([path] + args).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let start = ContinuousClock.now
        let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard rc == 0 else { throw UsageError(message: "cannot run \(path): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        var usage = rusage()
        // Peak memory from the child's VmHWM, read every 5 ms until it exits (`ru_maxrss` would
        // start from this process's memory, which a spawned child's accounting inherits).
        var peakKB = 0.0
        while true {
            let r = wait4(pid, &status, WNOHANG, &usage)
            if r == pid || (r == -1 && errno != EINTR) { break }
            if let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
               let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
               let kb = Double(line.split(separator: " ").dropFirst().first ?? "") {
                peakKB = max(peakKB, kb)
            }
            usleep(5_000)
        }
        let d = ContinuousClock.now - start
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        return (Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18, exit, cpu, peakKB / 1024)
    }
}
