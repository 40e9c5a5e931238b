import CanonicalJSON
package import EventLog
import Foundation

/// The lease a live run holds on its tenant + selection, and its slot for the concurrency
/// limits; both live in the state table `run_leases` so every process on the store sees them.
///
/// Keys are ``LeaseKey``s (a lock and a slot per run); values are canonical JSON of the lease.
package struct RunLease: Sendable, Hashable {
    package var runID: String
    package var tenant: String
    package var selectionHash: String
    package var correlationID: String
    /// The owning process: boot id, PID namespace, PID and start time (a record of an older
    /// build names only its PID).
    package var owner: ProcessIdentity
    /// The owner's host name, for messages only: containers share host names and PIDs.
    package var host: String
    /// A random token of the owning process, to recognize its own leases.
    package var processToken: String
    package var heartbeatAt: Int64
    package var expiresAt: Int64

    static let table = StoreTable.state("run_leases")

    var encoded: [UInt8] {
        (try? CanonicalJSON.serialize(.object([
            "run_id": .string(runID), "tenant": .string(tenant), "selection_hash": .string(selectionHash),
            "correlation_id": .string(correlationID), "host": .string(host),
            "process_token": .string(processToken), "heartbeat_at": .number(Double(heartbeatAt)),
            "expires_at": .number(Double(expiresAt)),
        ].merging(owner.jsonMembers) { a, _ in a }))) ?? []
    }

    init(runID: String, tenant: String, selectionHash: String, correlationID: String, owner: ProcessIdentity, host: String,
         processToken: String, heartbeatAt: Int64, expiresAt: Int64) {
        self.runID = runID
        self.tenant = tenant
        self.selectionHash = selectionHash
        self.correlationID = correlationID
        self.owner = owner
        self.host = host
        self.processToken = processToken
        self.heartbeatAt = heartbeatAt
        self.expiresAt = expiresAt
    }

    init?(decoding bytes: UnsafeRawBufferPointer) {
        guard let v = try? JSONParser().parse(bytes), let runID = v["run_id"]?.stringValue,
              let tenant = v["tenant"]?.stringValue, let hash = v["selection_hash"]?.stringValue,
              let owner = ProcessIdentity(json: v), let token = v["process_token"]?.stringValue,
              let hb = v["heartbeat_at"]?.int64Value, let exp = v["expires_at"]?.int64Value
        else { return nil }
        self.init(runID: runID, tenant: tenant, selectionHash: hash, correlationID: v["correlation_id"]?.stringValue ?? "",
                  owner: owner, host: v["host"]?.stringValue ?? "", processToken: token, heartbeatAt: hb, expiresAt: exp)
    }

    /// Whether the owner still holds the lease.
    ///
    /// A lease of this process is judged by this process's own record of its runs, on the
    /// monotonic clock (``LeaseHolder/holds(_:)``), so a jump of the wall clock does not make
    /// it expire here. Another process's lease is dead once its wall-clock expiry (`now`) has
    /// passed; before that, it is dead only when its owner is known to be gone: same boot and
    /// PID namespace, and no process with its PID and start time (``ProcessIdentity/liveness()``).
    /// An owner in another PID namespace or boot, or named by PID only (a record of an older
    /// build), is judged by the expiry alone.
    func isLive(now: Int64, holder: LeaseHolder) -> Bool {
        if processToken == holder.token { return holder.holds(runID) }
        if expiresAt <= now { return false }
        switch owner.liveness() {
        case .alive, .unknown: return true
        case .dead: return false
        }
    }

    /// The owner for messages: `pid 42 (namespace pid:[…]) on host`.
    var ownerDescription: String { host.isEmpty ? owner.description : "\(owner) on \(host)" }
}
