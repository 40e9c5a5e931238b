/// What an authenticated request may read: the token's name and its tenant scope.
package struct AccessGrant: Sendable, Hashable {
    /// The token's name (logged; the token never is).
    package var tokenName: String
    /// The tenants it may read, or `nil` for every tenant.
    package var tenants: Set<String>?

    package init(tokenName: String, tenants: Set<String>?) {
        self.tokenName = tokenName
        self.tenants = tenants
    }

    /// Whether the grant covers `tenant` (canonical form). The access events' own tenant is
    /// visible to unscoped tokens only.
    package func allows(_ tenant: String) -> Bool { tenants?.contains(tenant) ?? true }
}
