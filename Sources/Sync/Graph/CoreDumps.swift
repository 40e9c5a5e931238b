import CProcessGuard
import Foundation

/// Keeps secrets out of core dumps: called before credentials are loaded, it sets the core
/// file size limit to 0 (`RLIMIT_CORE`, soft and hard) and marks the process not dumpable
/// (`PR_SET_DUMPABLE` 0), which also stops other processes of the same user from reading its
/// memory through ptrace or `/proc/PID/mem`.
package enum CoreDumps {
    /// Turns core dumps off for the rest of the process's life.
    package static func disable() throws(GraphConfigurationError) {
        var limit = rlimit(rlim_cur: 0, rlim_max: 0)
        guard setrlimit(Int32(RLIMIT_CORE.rawValue), &limit) == 0 else {
            throw GraphConfigurationError("cannot turn core dumps off (setrlimit RLIMIT_CORE): \(String(cString: strerror(errno)))")
        }
        guard atlas_set_not_dumpable() == 0 else {
            throw GraphConfigurationError("cannot turn core dumps off (prctl PR_SET_DUMPABLE): \(String(cString: strerror(errno)))")
        }
    }

    /// Whether the process is still dumpable (`PR_GET_DUMPABLE`).
    package static var processIsDumpable: Bool { atlas_get_dumpable() != 0 }
}
