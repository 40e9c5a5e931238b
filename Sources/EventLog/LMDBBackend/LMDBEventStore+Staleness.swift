import LMDB

extension LMDBEventStore {
    /// The projections whose tables do not reflect the whole log: never built, built by another
    /// version, or behind the head (events appended by a process without them). Read in one
    /// read transaction, so a live writer (which updates projections in the append's own
    /// transaction) never makes a current projection look stale. Empty when every projection
    /// answers for the whole log.
    ///
    /// A writable open brings projections up to date itself; a read-only open cannot, and its
    /// readers use this to refuse instead of answering from stale tables.
    package func staleProjections() throws -> [StaleProjection] {
        try mapErrorsSync {
            try env.read { txn in
                let head = try readHead(txn).position
                return try projections.compactMap { p -> StaleProjection? in
                    guard let r = try record(txn, p.name) else { return StaleProjection(name: p.name, reason: .missing) }
                    if r.version != p.version {
                        return StaleProjection(name: p.name, reason: .otherVersion(stored: r.version, expected: p.version))
                    }
                    if r.checkpoint < head { return StaleProjection(name: p.name, reason: .behind(checkpoint: r.checkpoint, head: head)) }
                    return nil
                }
            }
        }
    }
}
