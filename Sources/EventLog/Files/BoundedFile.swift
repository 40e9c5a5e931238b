#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a small file named by the user (a selection, a checkpoint, a key, a credentials or
/// tenants file) without trusting its size: the file is opened without blocking (a FIFO does
/// not hang the open), examined on the opened descriptor (a regular file, at most `limit`
/// bytes, optionally private to its owner) and only then read, never more than `limit` bytes.
///
/// A file too large is refused before any of it is read, with its size and the limit.
package enum BoundedFile {
    /// Reads the file at `path`.
    ///
    /// - Parameters:
    ///   - role: what the file is, for messages (`"selection file"`).
    ///   - limit: the largest accepted size in bytes.
    ///   - ownerOnly: refuse a file group or others may read or write (key and secret files).
    /// - Throws: ``BoundedFileError`` naming the file and the problem.
    package static func read(_ path: String, role: String, limit: Int, ownerOnly: Bool = false) throws(BoundedFileError) -> [UInt8] {
        func fail(_ p: BoundedFileError.Problem) -> BoundedFileError { BoundedFileError(path: path, role: role, problem: p) }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        guard fd >= 0 else { throw fail(.cannotOpen(errno: errno)) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw fail(.cannotOpen(errno: errno)) }
        guard st.st_mode & S_IFMT == S_IFREG else { throw fail(.notRegularFile) }
        if ownerOnly && st.st_mode & 0o077 != 0 { throw fail(.notPrivate(mode: UInt32(st.st_mode))) }
        guard Int64(st.st_size) <= Int64(limit) else { throw fail(.tooLarge(size: Int64(st.st_size), limit: limit)) }
        // Read at most limit + 1 bytes: a file that grew since fstat is still refused.
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size) + 1)
        var count = 0
        while true {
            if count == bytes.count {
                guard bytes.count <= limit else { break }
                bytes += [UInt8](repeating: 0, count: min(bytes.count, limit + 1 - bytes.count))
            }
            let n = bytes.withUnsafeMutableBytes { b in Glibc.read(fd, b.baseAddress! + count, b.count - count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail(.readFailed(errno: errno))
            }
            if n == 0 { break }
            count += n
        }
        guard count <= limit else { throw fail(.tooLarge(size: Int64(count), limit: limit)) }
        bytes.removeSubrange(count...)
        return bytes
    }

    /// `strerror` of `code`.
    static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// A limit in the largest whole binary unit (`1 MiB`, `64 KiB`, `512 bytes`).
    static func sizeText(_ bytes: Int) -> String {
        if bytes >= 1 << 20 && bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10 && bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }
}
