package import CanonicalJSON

/// Extracts the whitelisted metadata of a Graph object; everything else is dropped and counted.
///
/// Kept (with their expected JSON types): `odata_type` ← `@odata.type` (string), `etag` ←
/// `@odata.etag` (string), `version` ← `version` (integer or string), `scope_tag_ids` ←
/// `roleScopeTagIds` (array of strings), `template_family` ← `templateReference.templateFamily`
/// (string), `platforms` (string), `technologies` (string), `created_at` ← `createdDateTime`
/// (string), `modified_at` ← `lastModifiedDateTime` or `modifiedDateTime` (string).
/// `id` and the display-name field are read elsewhere and not counted as dropped.
package enum MetaWhitelist {
    /// The whitelisted meta and how many keys were dropped.
    package struct Result: Sendable, Hashable {
        package var meta: [String: JSONValue]
        package var droppedKeys: Int
    }

    /// The keys meta can hold, in RFC 8785 order.
    package static let keysInCanonicalOrder = ["created_at", "etag", "modified_at", "odata_type", "platforms", "scope_tag_ids",
                                              "technologies", "template_family", "version"]

    /// Longest string kept in meta, in UTF-8 bytes; longer values are dropped.
    package static let maxStringBytes = 1024
    /// Most scope tag ids kept.
    package static let maxScopeTags = 256

    /// How a kept member's value is checked.
    package enum Rule: Sendable {
        /// A string of at most ``maxStringBytes``.
        case string
        /// An integer (kept as a number) or such a string.
        case integerOrString
        /// An array of at most ``maxScopeTags`` strings of at most 256 bytes each.
        case stringArray
        /// An object whose `templateFamily` is such a string (kept: that string).
        case templateFamily
    }

    /// Each Graph member meta keeps: the meta key it becomes and its rule. (Where two members
    /// feed one key, the later in canonical member order wins when both are valid.)
    package static let fields: [(member: String, key: String, rule: Rule)] = [
        ("@odata.type", "odata_type", .string), ("@odata.etag", "etag", .string), ("version", "version", .integerOrString),
        ("roleScopeTagIds", "scope_tag_ids", .stringArray), ("templateReference", "template_family", .templateFamily),
        ("platforms", "platforms", .string), ("technologies", "technologies", .string),
        ("createdDateTime", "created_at", .string), ("lastModifiedDateTime", "modified_at", .string),
        ("modifiedDateTime", "modified_at", .string),
    ]

    package static func extract(from item: [String: JSONValue], nameField: String) -> Result {
        extract(members: item.lazy.map { ($0.key, $0.value) }, nameField: nameField)
    }

    /// The whitelisted metadata of an object's members (keys unique).
    package static func extract<S: Sequence<(String, JSONValue)>>(members item: S, nameField: String) -> Result {
        var meta: [String: JSONValue] = [:]
        var dropped = 0
        for (key, value) in item where key != "id" && key != nameField {
            if let field = fields.first(where: { $0.member == key }), let kept = Self.value(value, field.rule) {
                meta[field.key] = kept
            } else {
                dropped += 1
            }
        }
        return Result(meta: meta, droppedKeys: dropped)
    }

    /// What meta keeps of `value` under `rule`, or `nil` when it is dropped.
    static func value(_ value: JSONValue, _ rule: Rule) -> JSONValue? {
        func string(_ v: JSONValue) -> JSONValue? {
            if case .string(let s) = v, s.utf8.count <= maxStringBytes { return v }
            return nil
        }
        switch rule {
        case .string:
            return string(value)
        case .integerOrString:
            if let i = value.int64Value { return .number(Double(i)) }
            return string(value)
        case .stringArray:
            guard case .array(let a) = value, a.count <= maxScopeTags,
                  a.allSatisfy({ if case .string(let s) = $0 { return s.utf8.count <= 256 } else { return false } }) else { return nil }
            return value
        case .templateFamily:
            guard case .object(let t) = value, let f = t["templateFamily"] else { return nil }
            return string(f)
        }
    }
}
