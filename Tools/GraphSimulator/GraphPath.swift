/// Helpers for Graph collection paths.
enum GraphPath {
    /// The Graph versions the simulator serves.
    static let versions: Set<String> = ["beta", "v1.0"]

    /// Adds a leading slash and removes trailing slashes.
    static func normalize(_ path: String) -> String {
        var p = path.hasPrefix("/") ? path : "/" + path
        while p.count > 1, p.hasSuffix("/") { p.removeLast() }
        return p
    }

    /// Splits `/beta/deviceManagement/x` into `("beta", "/deviceManagement/x")`.
    static func splitVersion(_ path: String) -> (version: String, rest: String)? {
        let trimmed = path.dropFirst()
        guard let slash = trimmed.firstIndex(of: "/") else { return nil }
        let version = String(trimmed[..<slash])
        guard versions.contains(version) else { return nil }
        return (version, String(trimmed[slash...]))
    }
}
