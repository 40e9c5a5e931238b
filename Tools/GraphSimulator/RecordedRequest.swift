package import CanonicalJSON
package import Foundation

/// One request the simulator answered, as kept in its request log.
package struct RecordedRequest: Sendable, Hashable {
    /// Position in the log, starting at 1.
    package var sequence: Int
    /// HTTP method, e.g. `GET`.
    package var method: String
    /// The path without the query, e.g. `/beta/deviceManagement/configurationPolicies`.
    package var path: String
    /// The raw query string without `?`, if any.
    package var query: String?
    /// The `Host` header the client sent.
    package var host: String?
    /// The `Authorization` header, verbatim, if present.
    package var authorization: String?
    /// The tenant resolved from the token or the token URL, if any.
    package var tenant: String?
    /// The 1-based page of a collection request, if it was one.
    package var page: Int?
    /// The name of the fault that fired, if any (see ``SimulatedFault/Kind/name``).
    package var fault: String?
    /// The HTTP status answered (0 when the connection was closed without an answer).
    package var status: Int
    /// When the request arrived.
    package var timestamp: Date

    /// Whether an `Authorization` header was present.
    package var hasAuthorization: Bool { authorization != nil }

    /// Creates a log entry.
    package init(
        sequence: Int, method: String, path: String, query: String?, host: String?, authorization: String?,
        tenant: String?, page: Int?, fault: String?, status: Int, timestamp: Date
    ) {
        self.sequence = sequence
        self.method = method
        self.path = path
        self.query = query
        self.host = host
        self.authorization = authorization
        self.tenant = tenant
        self.page = page
        self.fault = fault
        self.status = status
        self.timestamp = timestamp
    }

    /// The entry as served by `GET /_sim/requests`; `timestamp` is seconds since 1970.
    package var jsonValue: JSONValue {
        func opt(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        return .object([
            "sequence": .number(Double(sequence)),
            "method": .string(method),
            "path": .string(path),
            "query": opt(query),
            "host": opt(host),
            "has_authorization": .bool(hasAuthorization),
            "authorization": opt(authorization),
            "tenant": opt(tenant),
            "page": page.map { .number(Double($0)) } ?? .null,
            "fault": opt(fault),
            "status": .number(Double(status)),
            "timestamp": .number(timestamp.timeIntervalSince1970),
        ])
    }

    /// Reads an entry from its JSON form.
    package init?(json: JSONValue) {
        guard let seq = json["sequence"]?.intValue, let method = json["method"]?.stringValue,
              let path = json["path"]?.stringValue, let status = json["status"]?.intValue,
              let ts = json["timestamp"]?.doubleValue
        else { return nil }
        self.init(
            sequence: seq, method: method, path: path, query: json["query"]?.stringValue,
            host: json["host"]?.stringValue, authorization: json["authorization"]?.stringValue,
            tenant: json["tenant"]?.stringValue, page: json["page"]?.intValue, fault: json["fault"]?.stringValue,
            status: status, timestamp: Date(timeIntervalSince1970: ts))
    }
}
