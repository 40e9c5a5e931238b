/// A tenant's one canonical form: tenants are domain names (case-insensitive) or GUIDs, so the
/// canonical form is the lowercased text. Every command accepts any case and stores and looks
/// up this form.
package struct TenantID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The canonical (lowercased) text.
    package let value: String

    /// Why a tenant is not acceptable.
    package struct Invalid: Error, Sendable, Hashable, CustomStringConvertible {
        package var message: String
        package var description: String { message }
    }

    /// Canonicalizes and checks `text`: not empty, no whitespace or control characters, at most
    /// ``InventoryLimits/tenantBytes`` UTF-8 bytes.
    package init(_ text: String) throws(Invalid) {
        let value = Self.canonical(text)
        let shown = String(text.unicodeScalars.prefix(40).map { $0.properties.generalCategory == .control ? "?" : Character($0) })
        guard !value.isEmpty else { throw Invalid(message: "the tenant is empty") }
        if value.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control
            || $0.properties.generalCategory == .format }) {
            throw Invalid(message: "tenant \"\(shown)\" contains whitespace or control characters")
        }
        guard value.utf8.count <= InventoryLimits.tenantBytes else {
            throw Invalid(message: "tenant \"\(shown)…\" has \(value.utf8.count) bytes; at most \(InventoryLimits.tenantBytes) are allowed")
        }
        self.value = value
    }

    /// The canonical form of `text` without checking it (for lookups).
    package static func canonical(_ text: String) -> String { text.lowercased() }

    package var description: String { value }

    package static func < (a: TenantID, b: TenantID) -> Bool { a.value < b.value }
}
