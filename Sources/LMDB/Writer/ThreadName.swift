import Foundation

/// OS-level thread names, as `top -H`, `perf` and /proc show them.
package enum ThreadName {
    /// Names the calling thread (at most 15 bytes are kept). Best effort: Linux only, errors
    /// ignored.
    package static func setCurrent(_ name: String) {
        let fd = open("/proc/thread-self/comm", O_WRONLY)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}
