/// Why a file named on the command line (or in a configuration) was not read.
package struct BoundedFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong with the file.
    package enum Problem: Sendable, Hashable {
        /// It cannot be opened or examined (`errno` given).
        case cannotOpen(errno: Int32)
        /// It is a directory, FIFO, device or socket rather than a regular file.
        case notRegularFile
        /// It is larger than the limit (sizes in bytes).
        case tooLarge(size: Int64, limit: Int)
        /// Group or others may read or write it, and it must be private to its owner.
        case notPrivate(mode: UInt32)
        /// Reading failed (`errno` given).
        case readFailed(errno: Int32)
    }

    /// The path as given.
    package var path: String
    /// What the file is, for messages (`"selection file"`, `"checkpoint"`).
    package var role: String
    /// What was wrong.
    package var problem: Problem

    /// An error about the file at `path`.
    package init(path: String, role: String, problem: Problem) {
        self.path = path
        self.role = role
        self.problem = problem
    }

    /// A one-line message naming the file and the problem.
    package var message: String {
        switch problem {
        case .cannotOpen(let e): return "cannot read \(role) \(path): \(BoundedFile.errorText(e))"
        case .notRegularFile: return "\(role) \(path) is not a regular file"
        case .tooLarge(let size, let limit):
            return "\(role) \(path) is \(size) bytes, over the limit of \(limit) bytes (\(BoundedFile.sizeText(limit)))"
        case .notPrivate(let mode):
            return "\(role) \(path) is accessible by group or others (mode \(String(mode & 0o777, radix: 8))); run `chmod 600 \(path)`"
        case .readFailed(let e): return "cannot read \(role) \(path): \(BoundedFile.errorText(e))"
        }
    }

    package var description: String { message }
}
