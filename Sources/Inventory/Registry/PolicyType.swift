package import CanonicalJSON

/// A policy type Atlas can inventory: where Graph keeps it and how to read it.
package struct PolicyType: Sendable, Hashable {
    /// How an item's platform is found.
    package enum PlatformRule: Sendable, Hashable {
        /// From the `@odata.type` name's prefix (`#microsoft.graph.ios...` → `ios`).
        case fromODataType
        /// From the settings catalog `platforms` field (`windows10` → `windows`).
        case fromPlatformsField
        /// Always this platform.
        case fixed(String)
        /// Not platform-specific.
        case none
    }

    /// The registry key, for example `deviceConfiguration`.
    package let key: String
    package let category: PolicyCategory
    /// The Graph collection path, for example `/deviceManagement/deviceConfigurations`.
    package let collectionPath: String
    /// `beta` or `v1.0`.
    package let apiVersion: String
    /// The field holding the display name (`displayName`, or `name` for settings catalog).
    package let nameField: String
    package let platformRule: PlatformRule
    /// Whether the type is a foundation (filters, scope tags, templates), synced only when a
    /// selection includes foundations.
    package var isFoundation: Bool { category == .foundations }

    /// The collection's path including the API version, for example
    /// `/beta/deviceManagement/configurationPolicies`.
    package var versionedPath: String { "/\(apiVersion)\(collectionPath)" }

    /// The platform of `item` under this type's rule, or `nil`.
    package func platform(of item: JSONValue) -> String? {
        platform(odataType: item["@odata.type"]?.stringValue, platforms: item["platforms"]?.stringValue)
    }

    /// The platform of an item with these `@odata.type` and `platforms` members, or `nil`.
    package func platform(odataType: String?, platforms: String?) -> String? {
        switch platformRule {
        case .none: return nil
        case .fixed(let p): return p
        case .fromPlatformsField:
            guard let p = platforms else { return nil }
            return Self.platform(fromName: p)
        case .fromODataType:
            guard var t = odataType else { return nil }
            if t.hasPrefix("#") { t.removeFirst() }
            if t.hasPrefix("microsoft.graph.") { t.removeFirst("microsoft.graph.".count) }
            return Self.platform(fromName: t)
        }
    }

    /// Maps a type or platform name's prefix to a platform.
    static func platform(fromName name: String) -> String? {
        let lower = name.lowercased()
        for (prefix, platform) in platformPrefixes where lower.hasPrefix(prefix) { return platform }
        return nil
    }

    private static let platformPrefixes: [(String, String)] = [
        ("windows", "windows"), ("win32", "windows"), ("azuread", "windows"), ("activedirectory", "windows"),
        ("ios", "ios"), ("ipados", "ios"), ("macos", "macOS"), ("android", "android"), ("aosp", "android"),
        ("linux", "linux"), ("edition", "windows"), ("sharedpc", "windows"),
    ]
    /// Every platform a type's rule can derive.
    static let platforms: [String] = {
        var all: [String] = []
        for p in platformPrefixes.map(\.1) + PolicyTypeRegistry.all.compactMap({
            if case .fixed(let p) = $0.platformRule { return p } else { return nil }
        }) where !all.contains(p) {
            all.append(p)
        }
        return all
    }()

    private static let platformPrefixBytes: [([UInt8], String)] = platformPrefixes.map { (Array($0.0.utf8), $0.1) }

    /// ``platform(odataType:platforms:)`` for members given as the raw bytes of JSON string
    /// values (between the quotes, as in canonical JSON): compared in place when they are plain
    /// ASCII, decoded first otherwise, with the same result either way.
    func platform(odataTypeRaw: UnsafeRawBufferPointer?, platformsRaw: UnsafeRawBufferPointer?) -> String? {
        func plain(_ b: UnsafeRawBufferPointer) -> Bool { !b.contains { $0 >= 0x80 || $0 == UInt8(ascii: "\\") } }
        func decoded(_ b: UnsafeRawBufferPointer?) -> String? {
            b.map { JSONObjectScanner.string($0, 0..<$0.count) }
        }
        switch platformRule {
        case .none: return nil
        case .fixed(let p): return p
        case .fromPlatformsField:
            guard let p = platformsRaw else { return nil }
            return plain(p) ? Self.platform(fromASCII: p) : Self.platform(fromName: decoded(p)!)
        case .fromODataType:
            guard var t = odataTypeRaw else { return nil }
            guard plain(t) else { return platform(odataType: decoded(t), platforms: nil) }
            if t.first == UInt8(ascii: "#") { t = UnsafeRawBufferPointer(rebasing: t[1...]) }
            let ns = "microsoft.graph.".utf8
            if t.count >= ns.count && t.prefix(ns.count).elementsEqual(ns) { t = UnsafeRawBufferPointer(rebasing: t[ns.count...]) }
            return Self.platform(fromASCII: t)
        }
    }

    /// ``platform(fromName:)`` of an ASCII name's bytes, without making a `String`.
    private static func platform(fromASCII name: UnsafeRawBufferPointer) -> String? {
        for (prefix, platform) in platformPrefixBytes where name.count >= prefix.count {
            var match = true
            for (i, c) in prefix.enumerated() {
                var b = name[i]
                if b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") { b += 32 }
                if b != c { match = false; break }
            }
            if match { return platform }
        }
        return nil
    }
}
