/// The categories policy types are grouped in.
package enum PolicyCategory: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
    case configuration
    case compliance
    case endpointSecurity
    case scripts
    case apps
    case enrollment
    case updates
    case conditionalAccess
    case foundations

    package static func < (a: PolicyCategory, b: PolicyCategory) -> Bool { a.rawValue < b.rawValue }
}
