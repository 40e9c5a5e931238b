import CanonicalJSON

/// Reads typed fields from an event payload, naming the field in every error.
struct PayloadReader {
    let object: [String: JSONValue]
    let type: String

    init(_ data: JSONValue, type: String) throws(InventoryPayloadError) {
        guard case .object(let o) = data else { throw InventoryPayloadError("\(type): data is not an object") }
        self.object = o
        self.type = type
    }

    func string(_ key: String) throws(InventoryPayloadError) -> String {
        guard let s = object[key]?.stringValue else { throw InventoryPayloadError("\(type): \"\(key)\" is not a string") }
        return s
    }

    func optionalString(_ key: String) throws(InventoryPayloadError) -> String? {
        guard let v = object[key], !v.isNull else { return nil }
        guard let s = v.stringValue else { throw InventoryPayloadError("\(type): \"\(key)\" is not a string or null") }
        return s
    }

    func int(_ key: String) throws(InventoryPayloadError) -> Int {
        guard let i = object[key]?.intValue else { throw InventoryPayloadError("\(type): \"\(key)\" is not an integer") }
        return i
    }

    func bool(_ key: String) throws(InventoryPayloadError) -> Bool {
        guard let b = object[key]?.boolValue else { throw InventoryPayloadError("\(type): \"\(key)\" is not a boolean") }
        return b
    }

    func strings(_ key: String) throws(InventoryPayloadError) -> [String] {
        guard let a = object[key]?.arrayValue else { throw InventoryPayloadError("\(type): \"\(key)\" is not an array") }
        var out: [String] = []
        for e in a {
            guard let s = e.stringValue else { throw InventoryPayloadError("\(type): \"\(key)\" has a non-string element") }
            out.append(s)
        }
        return out
    }

    func object(_ key: String) throws(InventoryPayloadError) -> [String: JSONValue] {
        guard let o = object[key]?.objectValue else { throw InventoryPayloadError("\(type): \"\(key)\" is not an object") }
        return o
    }
}
