package import CanonicalJSON
import Crypto
import EventLog

/// What a sync covers, normalized: sorted, de-duplicated arrays of supported values.
///
/// Its ``hash`` identifies it: the lowercase hex SHA-256 of the RFC 8785 canonical JSON of
/// exactly `{"categories", "include_dependencies", "include_foundations", "policy_types"}`,
/// so the order of keys and arrays never changes it.
package struct Selection: Sendable, Hashable {
    package let policyTypes: [String]
    package let categories: [PolicyCategory]
    package let includeFoundations: Bool
    /// Stored and hashed; no behaviour yet.
    package let includeDependencies: Bool

    /// Normalizes the given values: trims, de-duplicates and sorts; values this build does
    /// not support must already have been removed (see ``SelectionParser``).
    package init(policyTypes: [String] = [], categories: [PolicyCategory] = [], includeFoundations: Bool = false,
                includeDependencies: Bool = false) {
        self.policyTypes = Array(Set(policyTypes.map { $0.trimmingASCIIWhitespace() })).filter { !$0.isEmpty }.sorted(by: Self.utf16Less)
        self.categories = Array(Set(categories)).sorted { Self.utf16Less($0.rawValue, $1.rawValue) }
        self.includeFoundations = includeFoundations
        self.includeDependencies = includeDependencies
    }

    /// The normalized object.
    package var json: JSONValue {
        .object([
            "policy_types": .array(policyTypes.map { .string($0) }),
            "categories": .array(categories.map { .string($0.rawValue) }),
            "include_foundations": .bool(includeFoundations),
            "include_dependencies": .bool(includeDependencies),
        ])
    }

    /// The canonical JSON text of the normalized object.
    package var canonicalText: String {
        String(decoding: (try? CanonicalJSON.serialize(json)) ?? [], as: UTF8.self)
    }

    /// The selection hash: lowercase hex SHA-256 of ``canonicalText``.
    package var hash: String {
        let bytes = (try? CanonicalJSON.serialize(json)) ?? []
        return Hex.encode(Array(SHA256.hash(data: bytes)))
    }

    /// The policy types a sync of this selection reads, in registry order: its
    /// `policy_types`; else every non-foundation type of its `categories`; else every
    /// non-foundation type; plus the foundations when `include_foundations`.
    package var resolvedTypes: [PolicyType] {
        var types: [PolicyType]
        if !policyTypes.isEmpty {
            let wanted = Set(policyTypes)
            types = PolicyTypeRegistry.all.filter { wanted.contains($0.key) }
        } else {
            types = PolicyTypeRegistry.types(in: Set(categories))
        }
        if includeFoundations {
            for f in PolicyTypeRegistry.foundations where !types.contains(f) { types.append(f) }
        }
        return types
    }

    static func utf16Less(_ a: String, _ b: String) -> Bool {
        a.utf16.lexicographicallyPrecedes(b.utf16)
    }
}

extension String {
    func trimmingASCIIWhitespace() -> String {
        let ws: Set<Character> = [" ", "\t", "\n", "\r"]
        var s = Substring(self)
        while let f = s.first, ws.contains(f) { s.removeFirst() }
        while let l = s.last, ws.contains(l) { s.removeLast() }
        return String(s)
    }
}
