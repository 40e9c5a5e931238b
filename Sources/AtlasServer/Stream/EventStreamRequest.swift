import EventLog

/// What an event stream sends: the events after ``after`` that match the filters and the
/// token's scope.
struct EventStreamRequest: Sendable, Hashable {
    /// Resume after this position (`Last-Event-ID`, else `?from=`, else 0: the whole log).
    var after: UInt64
    /// Only this tenant's events (`?tenant=`), if given.
    var tenant: String?
    /// Only events whose type starts with one of these (`?type=`, repeatable), if any.
    var typePrefixes: [String]
    /// The tenants the token may see, or `nil` for every tenant.
    var scope: Set<String>?

    /// Whether an event of `tenant` and `type` is sent.
    func matches(tenant eventTenant: String, type: String) -> Bool {
        if let tenant, eventTenant != tenant { return false }
        if let scope, !scope.contains(eventTenant) { return false }
        if !typePrefixes.isEmpty, !typePrefixes.contains(where: { type.hasPrefix($0) }) { return false }
        return true
    }

    /// Whether every event passes (no decoding needed).
    var matchesAll: Bool { tenant == nil && scope == nil && typePrefixes.isEmpty }
}
