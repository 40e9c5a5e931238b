package import CanonicalJSON

extension SubscriptionFilter {
    /// The filter as stored in a consumer's checkpoint: `{"tenant":"…","type":"…"}`, each member
    /// present only when the filter has it (`{}` for every event).
    package var recordValue: JSONValue {
        var o: [String: JSONValue] = [:]
        if let tenant { o["tenant"] = .string(tenant) }
        if let typePrefix { o["type"] = .string(typePrefix) }
        return .object(o)
    }

    /// Decodes ``recordValue``; `nil` when `value` is not of that shape.
    package init?(recordValue value: JSONValue) {
        guard let o = value.objectValue, Set(o.keys).isSubset(of: ["tenant", "type"]) else { return nil }
        var tenant: String?
        var type: String?
        if let t = o["tenant"] {
            guard let s = t.stringValue else { return nil }
            tenant = s
        }
        if let t = o["type"] {
            guard let s = t.stringValue, !s.isEmpty else { return nil }
            type = s
        }
        self.init(tenant: tenant, typePrefix: type)
    }

    /// The filter for messages and listings: `tenant=contoso type=inventory.`, or `all events`.
    package var summary: String {
        if isAll { return "all events" }
        var parts: [String] = []
        if let tenant { parts.append("tenant=\(tenant)") }
        if let typePrefix { parts.append("type=\(typePrefix)") }
        return parts.joined(separator: " ")
    }
}
