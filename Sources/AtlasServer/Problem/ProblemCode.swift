/// What went wrong with a request: the `code` member of a problem document and the last
/// segment of its `type` URI.
package enum ProblemCode: String, Sendable, Hashable, CaseIterable {
    /// No token, an unknown token, or an expired or revoked one (401).
    case unauthorized
    /// A tenant the store does not have, or one outside the token's scope (404).
    case tenantNotFound = "tenant-not-found"
    /// No route has this path (404).
    case notFound = "not-found"
    /// The path exists, not with this method (405).
    case methodNotAllowed = "method-not-allowed"
    /// A query parameter or path segment that does not parse (400).
    case invalidParameter = "invalid-parameter"
    /// No run of the tenant has this selection (404).
    case selectionNotFound = "selection-not-found"
    /// A run id that is not a run of the tenant (404).
    case runNotFound = "run-not-found"
    /// Two runs that cannot be compared (409).
    case changesUnavailable = "changes-unavailable"
    /// A console form without its CSRF token (403).
    case forbidden
    /// The store could not answer (500).
    case storeError = "store-error"
    /// The server is shutting down (503).
    case unavailable

    /// The HTTP status.
    package var status: Int {
        switch self {
        case .unauthorized: 401
        case .tenantNotFound, .notFound, .selectionNotFound, .runNotFound: 404
        case .methodNotAllowed: 405
        case .invalidParameter: 400
        case .changesUnavailable: 409
        case .forbidden: 403
        case .storeError: 500
        case .unavailable: 503
        }
    }

    /// A short, fixed summary (RFC 9457 `title`).
    package var title: String {
        switch self {
        case .unauthorized: "A valid access token is required"
        case .tenantNotFound: "Tenant not found"
        case .notFound: "Not found"
        case .methodNotAllowed: "Method not allowed"
        case .invalidParameter: "Invalid parameter"
        case .selectionNotFound: "Selection not found"
        case .runNotFound: "Run not found"
        case .changesUnavailable: "The runs cannot be compared"
        case .forbidden: "Forbidden"
        case .storeError: "The store could not answer"
        case .unavailable: "Unavailable"
        }
    }

    /// The `type` URI.
    package var typeURI: String { "urn:atlas:problem:\(rawValue)" }
}
