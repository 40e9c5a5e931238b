import Foundation

/// One process instance on one machine: boot id, PID namespace, PID and start time.
///
/// A PID alone names nothing stable: PIDs are reused, containers give their processes the same
/// small PIDs in separate PID namespaces, and a reboot reuses all of them. The boot id
/// (`/proc/sys/kernel/random/boot_id`) names the running kernel, the PID namespace inode
/// (`/proc/self/ns/pid`) the namespace a PID is counted in, and the start time (field 22 of
/// `/proc/<pid>/stat`, clock ticks since boot) tells a reused PID from the original process.
///
/// Records naming an owner (run leases, projection rebuilds) store this; ``liveness()`` judges
/// such an owner from the current process.
package struct ProcessIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The kernel's boot id; empty when unknown (no `/proc`).
    package var bootID: String
    /// The inode of the PID namespace; 0 when unknown.
    package var pidNamespace: UInt64
    /// The PID within ``pidNamespace``.
    package var pid: Int32
    /// The start time in clock ticks after boot; 0 when unknown.
    package var startTime: UInt64

    package init(bootID: String, pidNamespace: UInt64, pid: Int32, startTime: UInt64) {
        self.bootID = bootID
        self.pidNamespace = pidNamespace
        self.pid = pid
        self.startTime = startTime
    }

    /// The identity of this process.
    package static let current: ProcessIdentity = {
        let pid = getpid()
        return ProcessIdentity(bootID: bootID ?? "", pidNamespace: namespace("/proc/self/ns/pid") ?? 0, pid: pid,
                               startTime: startTime(of: pid) ?? 0)
    }()

    /// Whether every part is known, so the identity can be compared reliably.
    package var isComplete: Bool { !bootID.isEmpty && pidNamespace != 0 && pid > 0 && startTime != 0 }

    /// Whether the process is alive, as far as the current process can tell.
    package enum Liveness: Sendable, Hashable {
        /// It is this process, or a process with its PID and start time runs in this namespace.
        case alive
        /// Same boot and PID namespace, and no process with its PID and start time runs.
        case dead
        /// Another boot or PID namespace, or an incomplete identity: the process cannot be
        /// looked at from here; judge by a lease's expiry.
        case unknown
    }

    /// Judges this identity from the current process: `kill(pid, 0)` and the start time of
    /// that PID are consulted only when the boot id and PID namespace equal ours.
    package func liveness() -> Liveness {
        let me = Self.current
        guard isComplete, me.isComplete, bootID == me.bootID, pidNamespace == me.pidNamespace else { return .unknown }
        if self == me { return .alive }
        guard kill(pid, 0) == 0 || errno == EPERM else { return .dead }
        // The same PID with another start time is another process: the PID was reused.
        return Self.startTime(of: pid) == startTime ? .alive : .dead
    }

    /// A short description for messages: `pid 42 (namespace pid:[4026531836])`.
    package var description: String {
        pidNamespace == 0 ? "pid \(pid)" : "pid \(pid) (namespace pid:[\(pidNamespace)])"
    }

    // MARK: /proc

    static var bootID: String? {
        guard let s = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8) else { return nil }
        let id = s.trimmingCharacters(in: .whitespacesAndNewlines)
        return id.isEmpty ? nil : id
    }

    static func namespace(_ link: String) -> UInt64? {
        var st = stat()
        guard stat(link, &st) == 0 else { return nil }
        return UInt64(st.st_ino)
    }

    /// Field 22 of `/proc/<pid>/stat` (after the parenthesized command name, which may
    /// contain spaces and parentheses).
    package static func startTime(of pid: Int32) -> UInt64? {
        guard let s = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = s.lastIndex(of: ")") else { return nil }
        // Fields after the name start at field 3 (state); field 22 is the 20th of them.
        let fields = s[s.index(after: close)...].split(separator: " ")
        guard fields.count >= 20 else { return nil }
        return UInt64(fields[19])
    }
}
