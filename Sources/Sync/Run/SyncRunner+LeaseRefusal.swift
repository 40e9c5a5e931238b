import Inventory

extension SyncRunner {
    /// Why a run did not take its tenant + selection lock and a concurrency slot. Thrown from
    /// the transaction that would append the run's start event, so nothing is written.
    enum LeaseRefusal: Error {
        /// A live run holds the lock for this tenant and selection.
        case heldByLiveRun(RunLease)
        /// The lock's holder is dead: its run is reclaimed and the lease tried again.
        case holderDead
        /// The live runs of every process on the store reach the global limit.
        case globalLimit(live: Int, limit: Int)
        /// The live runs of the tenant reach the per-tenant limit.
        case tenantLimit(tenant: String, live: Int, limit: Int)

        /// The skipped run this refusal is recorded as when the run does not wait.
        var skip: Skip {
            switch self {
            case let .heldByLiveRun(current):
                Skip(code: .lockHeld, message: "run \(current.runID) (\(current.ownerDescription)) holds the lock for this tenant and selection")
            case .holderDead:
                Skip(code: .lockHeld, message: "the lock's holder is dead")
            case let .globalLimit(live, limit):
                Skip(code: .concurrencyLimitGlobal, message: "\(live) live runs reach the global limit of \(limit)")
            case let .tenantLimit(tenant, live, limit):
                Skip(code: .concurrencyLimitTenant, message: "\(live) live runs of tenant \(tenant) reach the limit of \(limit)")
            }
        }
    }

    /// A skipped run's error code and its reason.
    struct Skip {
        var code: InventoryErrorCode
        var message: String
    }

    /// Another process reclaimed the dead run first; thrown to write nothing.
    struct AlreadyReclaimed: Error {}
}
