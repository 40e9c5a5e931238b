/// The JSON API's routes (all `GET`), by path template. `/api/v1/openapi.json` documents each
/// of them (a test keeps the two in step).
package enum APIRoute: String, Sendable, Hashable, CaseIterable {
    case health = "/api/v1/health"
    case openAPI = "/api/v1/openapi.json"
    case head = "/api/v1/head"
    case tenants = "/api/v1/tenants"
    case items = "/api/v1/tenants/{tenant}/items"
    case runs = "/api/v1/tenants/{tenant}/runs"
    case missing = "/api/v1/tenants/{tenant}/missing"
    case history = "/api/v1/tenants/{tenant}/items/{policy_type}/{id}/history"
    case changes = "/api/v1/tenants/{tenant}/changes"
    case events = "/api/v1/events"

    /// The path template, `{name}` for a parameter segment.
    package var template: String { rawValue }

    /// Whether the route answers without a token (only the liveness check).
    package var isPublic: Bool { self == .health }

    /// The route whose template matches `segments` (percent-decoded), with its parameters.
    static func match(_ segments: [String]) -> (route: APIRoute, parameters: [String: String])? {
        for route in allCases {
            let parts = route.template.split(separator: "/").map(String.init)
            guard parts.count == segments.count else { continue }
            var parameters: [String: String] = [:]
            var matched = true
            for (part, segment) in zip(parts, segments) {
                if part.hasPrefix("{") {
                    guard !segment.isEmpty else { matched = false; break }
                    parameters[String(part.dropFirst().dropLast())] = segment
                } else if part != segment {
                    matched = false
                    break
                }
            }
            if matched { return (route, parameters) }
        }
        return nil
    }
}
