import EventLog

/// Reads files named on the command line with ``BoundedFile``: checked before they are read,
/// and a usage error (exit 2) naming the file, its size and the limit when one is too large,
/// not a regular file or unreadable.
package enum FileArgument {
    /// The largest `--selection @FILE`.
    package static let selectionLimit = 1 << 20
    /// The largest `--tenants-file`.
    package static let tenantsLimit = 16 << 20
    /// The largest `--checkpoint` file.
    package static let checkpointLimit = 64 << 10
    /// The largest `--public-key @FILE`.
    package static let publicKeyLimit = 1 << 10

    /// The bytes of the file at `path`, at most `limit` of them.
    package static func read(_ path: String, role: String, limit: Int, ownerOnly: Bool = false) throws(CommandFailure) -> [UInt8] {
        do {
            return try BoundedFile.read(path, role: role, limit: limit, ownerOnly: ownerOnly)
        } catch {
            throw CommandFailure.usage(error.message)
        }
    }
}
