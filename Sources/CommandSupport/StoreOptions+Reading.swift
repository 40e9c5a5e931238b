package import EventLog

extension StoreOptions {
    /// Opens the store for a read command: read-only (for LMDB `MDB_RDONLY`, and without the lock
    /// file when it cannot be used: a read-only file system, a copy the user cannot write, no
    /// lock file), so nothing is created or written and no writer is ever waited for.
    ///
    /// Projections that do not answer for the whole log (behind the head, never built, or built
    /// by another version) cannot be brought up to date without writing: that is a usage error
    /// (exit 2) naming `atlas-replay rebuild`.
    package func openForReading() throws -> any EventStore {
        let store = try open(readOnly: true)
        let stale: [StaleProjection]
        do { stale = try store.staleProjections() } catch let e as EventLogError {
            throw CommandFailure(e.message)
        }
        if !stale.isEmpty {
            throw CommandFailure.usage(
                "\(location): \(stale.map(\.description).joined(separator: "; ")); a read-only command does not write, "
                    + "so bring the projections up to date first with `atlas-replay rebuild --store \(location)` (needs write access)")
        }
        return store
    }
}
