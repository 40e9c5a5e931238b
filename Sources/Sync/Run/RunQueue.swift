/// The runs of this process waiting for their turn under the concurrency limits.
///
/// A run takes a local turn before it tries the store's lease table: at most `globalLimit`
/// runs of this process at once, at most `perTenantLimit` per tenant, and one per tenant +
/// selection. A run beyond a limit waits here (first come, first served among the runs that
/// may start), so only runs held by *other* processes can make a run `skipped`.
actor RunQueue {
    /// A turn that has been granted; give it back with `release(_:)`.
    struct Turn: Sendable, Hashable {
        var tenant: String
        var lockKey: String
    }

    private struct Waiter {
        var id: UInt64
        var turn: Turn
        var continuation: CheckedContinuation<Void, any Error>
    }

    let globalLimit: Int
    let perTenantLimit: Int
    private var running = 0
    private var perTenant: [String: Int] = [:]
    private var locks: Set<String> = []
    private var waiters: [Waiter] = []
    private var nextID: UInt64 = 0

    init(globalLimit: Int, perTenantLimit: Int) {
        self.globalLimit = max(1, globalLimit)
        self.perTenantLimit = max(1, perTenantLimit)
    }

    /// Waits until `tenant` + `selectionHash` may run in this process. Throws
    /// `CancellationError` when the waiting task is cancelled.
    func acquire(tenant: String, selectionHash: String) async throws -> Turn {
        let turn = Turn(tenant: tenant, lockKey: tenant + "\u{0}" + selectionHash)
        if waiters.isEmpty && admissible(turn) {
            take(turn)
            return turn
        }
        try Task.checkCancellation()
        nextID += 1
        let id = nextID
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                waiters.append(Waiter(id: id, turn: turn, continuation: c))
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
        return turn
    }

    /// Gives a turn back and starts the waiters that may now run.
    func release(_ turn: Turn) {
        running -= 1
        perTenant[turn.tenant, default: 1] -= 1
        if perTenant[turn.tenant] == 0 { perTenant[turn.tenant] = nil }
        locks.remove(turn.lockKey)
        admitWaiters()
    }

    /// Runs of this process holding a turn now.
    var runningCount: Int { running }

    private func admissible(_ turn: Turn) -> Bool {
        running < globalLimit && perTenant[turn.tenant, default: 0] < perTenantLimit && !locks.contains(turn.lockKey)
    }

    private func take(_ turn: Turn) {
        running += 1
        perTenant[turn.tenant, default: 0] += 1
        locks.insert(turn.lockKey)
    }

    private func admitWaiters() {
        var i = 0
        while i < waiters.count && running < globalLimit {
            if admissible(waiters[i].turn) {
                let w = waiters.remove(at: i)
                take(w.turn)
                w.continuation.resume()
            } else {
                i += 1
            }
        }
    }

    private func cancel(_ id: UInt64) {
        guard let i = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: i).continuation.resume(throwing: CancellationError())
    }
}
