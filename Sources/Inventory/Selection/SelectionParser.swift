package import CanonicalJSON

/// Turns user-supplied selection JSON into a normalized ``Selection``.
///
/// Unknown top-level keys and wrong JSON types are errors that name the key: a typo must not
/// silently select something else. Unsupported policy types and unknown categories are dropped
/// and reported; if every given value of a non-empty array is dropped, that is an error too.
package enum SelectionParser {
    /// A parsed selection and what was dropped from it.
    package struct Result: Sendable, Hashable {
        package var selection: Selection
        package var droppedPolicyTypes: [String]
        package var droppedCategories: [String]
    }

    /// A selection that cannot be used.
    package struct Error: Swift.Error, Sendable, Hashable, CustomStringConvertible {
        package var message: String
        package var description: String { message }
    }

    static let keys: Set<String> = ["policy_types", "categories", "include_foundations", "include_dependencies"]

    /// Parses selection JSON text.
    package static func parse(_ text: String) throws(Error) -> Result {
        let value: JSONValue
        do { value = try JSONParser(limits: .init(maxDepth: 8, maxStringBytes: 4096, maxInputBytes: 1 << 20)).parse(text) } catch {
            throw Error(message: "selection is not valid JSON: \(error)")
        }
        return try parse(value)
    }

    /// Parses a selection object.
    package static func parse(_ value: JSONValue) throws(Error) -> Result {
        guard case .object(let o) = value else {
            throw Error(message: "selection must be a JSON object, not \(value.typeName)")
        }
        if let unknown = o.keys.sorted().first(where: { !keys.contains($0) }) {
            throw Error(message: "selection has unknown key \"\(unknown)\"; allowed keys: categories, include_dependencies, include_foundations, policy_types")
        }
        func strings(_ key: String) throws(Error) -> [String] {
            guard let v = o[key], !v.isNull else { return [] }
            guard case .array(let a) = v else { throw Error(message: "selection key \"\(key)\" must be an array of strings, not \(v.typeName)") }
            var out: [String] = []
            for (i, e) in a.enumerated() {
                guard case .string(let s) = e else {
                    throw Error(message: "selection key \"\(key)\"[\(i)] must be a string, not \(e.typeName)")
                }
                out.append(s.trimmingASCIIWhitespace())
            }
            return out.filter { !$0.isEmpty }
        }
        func bool(_ key: String) throws(Error) -> Bool {
            guard let v = o[key], !v.isNull else { return false }
            guard case .bool(let b) = v else { throw Error(message: "selection key \"\(key)\" must be true or false, not \(v.typeName)") }
            return b
        }
        let givenTypes = try strings("policy_types")
        let givenCategories = try strings("categories")
        let types = givenTypes.filter { PolicyTypeRegistry.type($0) != nil }
        let droppedTypes = Array(Set(givenTypes.filter { PolicyTypeRegistry.type($0) == nil })).sorted()
        let categories = givenCategories.compactMap(PolicyCategory.init(rawValue:))
        let droppedCategories = Array(Set(givenCategories.filter { PolicyCategory(rawValue: $0) == nil })).sorted()
        if !givenTypes.isEmpty && types.isEmpty {
            throw Error(message: "none of the selection's policy_types is supported: \(droppedTypes.joined(separator: ", ")); an empty list would select every type")
        }
        if !givenCategories.isEmpty && categories.isEmpty {
            throw Error(message: "none of the selection's categories is known: \(droppedCategories.joined(separator: ", ")); known: \(PolicyCategory.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let selection = Selection(policyTypes: types, categories: categories,
                                  includeFoundations: try bool("include_foundations"),
                                  includeDependencies: try bool("include_dependencies"))
        return Result(selection: selection, droppedPolicyTypes: droppedTypes, droppedCategories: droppedCategories)
    }
}
