import CanonicalJSON
import EventLog
import Foundation

/// The lease a live run holds on its tenant + selection, and its slot for the concurrency
/// limits; both live in the state table `run_leases` so every process on the store sees them.
///
/// Keys: `L` ‖ tenant ‖ 0x00 ‖ selection hash (hex) → lease; `S` ‖ tenant ‖ 0x00 ‖ run id → slot.
/// Values are canonical JSON of the lease.
public struct RunLease: Sendable, Hashable {
    public var runID: String
    public var tenant: String
    public var selectionHash: String
    public var correlationID: String
    public var pid: Int32
    public var host: String
    /// Identifies the owning process instance (pids are reused).
    public var processToken: String
    public var heartbeatAt: Int64
    public var expiresAt: Int64

    static let table = StoreTable.state("run_leases")

    static func lockKey(_ tenant: String, _ selectionHash: String) -> [UInt8] {
        [UInt8(ascii: "L")] + Array(tenant.utf8) + [0] + Array(selectionHash.utf8)
    }

    static func slotKey(_ tenant: String, _ runID: String) -> [UInt8] {
        [UInt8(ascii: "S")] + Array(tenant.utf8) + [0] + Array(runID.utf8)
    }

    static let slotPrefix: [UInt8] = [UInt8(ascii: "S")]

    static func tenantSlotPrefix(_ tenant: String) -> [UInt8] { [UInt8(ascii: "S")] + Array(tenant.utf8) + [0] }

    var encoded: [UInt8] {
        (try? CanonicalJSON.serialize(.object([
            "run_id": .string(runID), "tenant": .string(tenant), "selection_hash": .string(selectionHash),
            "correlation_id": .string(correlationID), "pid": .number(Double(pid)), "host": .string(host),
            "process_token": .string(processToken), "heartbeat_at": .number(Double(heartbeatAt)),
            "expires_at": .number(Double(expiresAt)),
        ]))) ?? []
    }

    init(runID: String, tenant: String, selectionHash: String, correlationID: String, pid: Int32, host: String,
         processToken: String, heartbeatAt: Int64, expiresAt: Int64) {
        self.runID = runID
        self.tenant = tenant
        self.selectionHash = selectionHash
        self.correlationID = correlationID
        self.pid = pid
        self.host = host
        self.processToken = processToken
        self.heartbeatAt = heartbeatAt
        self.expiresAt = expiresAt
    }

    init?(decoding bytes: UnsafeRawBufferPointer) {
        guard let v = try? JSONParser().parse(bytes), let runID = v["run_id"]?.stringValue,
              let tenant = v["tenant"]?.stringValue, let hash = v["selection_hash"]?.stringValue,
              let pid = v["pid"]?.intValue, let host = v["host"]?.stringValue,
              let token = v["process_token"]?.stringValue, let hb = v["heartbeat_at"]?.int64Value,
              let exp = v["expires_at"]?.int64Value
        else { return nil }
        self.init(runID: runID, tenant: tenant, selectionHash: hash, correlationID: v["correlation_id"]?.stringValue ?? "",
                  pid: Int32(truncatingIfNeeded: pid), host: host, processToken: token, heartbeatAt: hb, expiresAt: exp)
    }

    /// Whether the owner is still alive: not expired and, on this host, its process exists
    /// (and, for this process, the run is still active here).
    func isLive(now: Int64, identity: ProcessIdentity) -> Bool {
        if expiresAt <= now { return false }
        guard host == identity.host else { return true }
        if pid == identity.pid { return processToken == identity.token && identity.isActive(runID) }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}

/// This process's identity, and the runs it is executing.
public final class ProcessIdentity: @unchecked Sendable {
    public static let current = ProcessIdentity()

    let pid: Int32 = getpid()
    let host: String = ProcessInfo.processInfo.hostName
    let token: String = EventID.generate().description
    private let lock = NSLock()
    private var active: Set<String> = []

    func begin(_ runID: String) {
        lock.lock()
        active.insert(runID)
        lock.unlock()
    }

    func end(_ runID: String) {
        lock.lock()
        active.remove(runID)
        lock.unlock()
    }

    func isActive(_ runID: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return active.contains(runID)
    }
}
