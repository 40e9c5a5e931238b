package import CanonicalJSON

extension ProcessIdentity {
    /// The members stored in a record naming an owner: `boot_id`, `pid_ns`, `pid`, `start_time`.
    package var jsonMembers: [String: JSONValue] {
        ["boot_id": .string(bootID), "pid_ns": .number(Double(pidNamespace)), "pid": .number(Double(pid)),
         "start_time": .number(Double(startTime))]
    }

    /// Reads the members of ``jsonMembers`` from `object`; `nil` when `pid` is missing. A record
    /// written before the other members existed (PID only) gives an incomplete identity, whose
    /// ``liveness()`` is ``Liveness/unknown``.
    package init?(json object: JSONValue) {
        guard let pid = object["pid"]?.int64Value, let pid32 = Int32(exactly: pid) else { return nil }
        let ns = object["pid_ns"]?.int64Value ?? 0
        let start = object["start_time"]?.int64Value ?? 0
        self.init(bootID: object["boot_id"]?.stringValue ?? "", pidNamespace: UInt64(max(0, ns)), pid: pid32,
                  startTime: UInt64(max(0, start)))
    }
}
