import Foundation

/// One run of a child process with its output discarded, as the benchmarks that time whole
/// processes measure it.
struct ChildRun {
    /// Wall time from spawn to exit.
    var seconds: Double
    /// The exit status, or 128 + the signal.
    var status: Int32
    /// The child's user + system CPU seconds (`wait4`).
    var cpu: Double
    /// The child's peak resident memory (its VmHWM), when sampled; 0 otherwise.
    var peakMiB: Double

    /// Runs `path args`. With `sampleEvery` (microseconds), the child's VmHWM is read at that
    /// interval until it exits: `wait4`'s `ru_maxrss` would start from this process's memory,
    /// which a spawned child's accounting inherits.
    static func run(_ path: String, _ args: [String], sampleEvery: UInt32? = nil) throws -> ChildRun {
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
        var peakKB = 0.0
        while true {
            let r = wait4(pid, &status, sampleEvery == nil ? 0 : WNOHANG, &usage)
            if r == pid || (r == -1 && errno != EINTR) { break }
            guard let interval = sampleEvery else { continue }
            if let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
               let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
               let kb = Double(line.split(separator: " ").dropFirst().first ?? "") {
                peakKB = max(peakKB, kb)
            }
            usleep(interval)
        }
        let d = ContinuousClock.now - start
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        return ChildRun(seconds: Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18, status: exit, cpu: cpu,
                        peakMiB: peakKB / 1024)
    }
}
