import CanonicalJSON

/// Extracts the whitelisted metadata of a Graph object; everything else is dropped and counted.
///
/// Kept (with their expected JSON types): `odata_type` ← `@odata.type` (string), `etag` ←
/// `@odata.etag` (string), `version` ← `version` (integer or string), `scope_tag_ids` ←
/// `roleScopeTagIds` (array of strings), `template_family` ← `templateReference.templateFamily`
/// (string), `platforms` (string), `technologies` (string), `created_at` ← `createdDateTime`
/// (string), `modified_at` ← `lastModifiedDateTime` or `modifiedDateTime` (string).
/// `id` and the display-name field are read elsewhere and not counted as dropped.
public enum MetaWhitelist {
    /// The whitelisted meta and how many keys were dropped.
    public struct Result: Sendable, Hashable {
        public var meta: [String: JSONValue]
        public var droppedKeys: Int
    }

    /// The keys meta can hold, in RFC 8785 order.
    public static let keysInCanonicalOrder = ["created_at", "etag", "modified_at", "odata_type", "platforms", "scope_tag_ids",
                                              "technologies", "template_family", "version"]

    /// Longest string kept in meta, in UTF-8 bytes; longer values are dropped.
    public static let maxStringBytes = 1024
    /// Most scope tag ids kept.
    public static let maxScopeTags = 256

    public static func extract(from item: [String: JSONValue], nameField: String) -> Result {
        extract(members: item.lazy.map { ($0.key, $0.value) }, nameField: nameField)
    }

    /// The whitelisted metadata of an object's members (keys unique).
    public static func extract<S: Sequence<(String, JSONValue)>>(members item: S, nameField: String) -> Result {
        var meta: [String: JSONValue] = [:]
        var dropped = 0
        func string(_ v: JSONValue) -> JSONValue? {
            if case .string(let s) = v, s.utf8.count <= maxStringBytes { return v }
            return nil
        }
        for (key, value) in item {
            switch key {
            case "id", nameField:
                continue
            case "@odata.type":
                if let s = string(value) { meta["odata_type"] = s } else { dropped += 1 }
            case "@odata.etag":
                if let s = string(value) { meta["etag"] = s } else { dropped += 1 }
            case "version":
                if let i = value.int64Value { meta["version"] = .number(Double(i)) } else if let s = string(value) { meta["version"] = s } else { dropped += 1 }
            case "roleScopeTagIds":
                if case .array(let a) = value, a.count <= maxScopeTags,
                   a.allSatisfy({ if case .string(let s) = $0 { return s.utf8.count <= 256 } else { return false } }) {
                    meta["scope_tag_ids"] = value
                } else { dropped += 1 }
            case "templateReference":
                if case .object(let t) = value, let f = t["templateFamily"], let s = string(f) {
                    meta["template_family"] = s
                } else { dropped += 1 }
            case "platforms":
                if let s = string(value) { meta["platforms"] = s } else { dropped += 1 }
            case "technologies":
                if let s = string(value) { meta["technologies"] = s } else { dropped += 1 }
            case "createdDateTime":
                if let s = string(value) { meta["created_at"] = s } else { dropped += 1 }
            case "lastModifiedDateTime", "modifiedDateTime":
                if let s = string(value) { meta["modified_at"] = s } else { dropped += 1 }
            default:
                dropped += 1
            }
        }
        return Result(meta: meta, droppedKeys: dropped)
    }
}
