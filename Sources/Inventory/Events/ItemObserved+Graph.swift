package import CanonicalJSON
import Crypto
import EventLog

extension ItemObserved {
    /// Limits on what an observation keeps of a Graph object.
    package enum Limits {
        /// Longest external id, in UTF-8 bytes; longer ids are rejected.
        package static let externalIDBytes = InventoryLimits.externalIDBytes
        /// Longest display name kept, in UTF-8 bytes; longer names are truncated.
        package static let displayNameBytes = 1024
    }

    /// Why a Graph object cannot be observed.
    ///
    /// The one way a refused item is reported: the encoders throw it, sources hand it to their
    /// sink with the page's observations, and a run records it as `graph_item_invalid`.
    package struct Rejection: Error, Sendable, Hashable {
        package var message: String

        package init(message: String) { self.message = message }
    }

    /// Builds the observation of Graph object `item` of `type` for a run.
    ///
    /// - Throws: ``Rejection`` when the object is not an object or lacks a usable `id`.
    package init(graphObject item: JSONValue, type: PolicyType, runID: String, selectionHash: String) throws(Rejection) {
        guard case .object = item else { throw Rejection(message: "item is \(item.typeName), not an object") }
        let object: GraphObject
        do { object = try GraphObject(item) } catch {
            throw Rejection(message: "item cannot be canonicalized: \(error)")
        }
        try self.init(graphObject: object, type: type, runID: runID, selectionHash: selectionHash)
    }

    /// Builds the observation of Graph object `item` of `type` for a run, reading only the
    /// members it keeps from the canonical bytes.
    ///
    /// - Throws: ``Rejection`` when the object is not an object or lacks a usable `id`.
    package init(graphObject item: GraphObject, type: PolicyType, runID: String, selectionHash: String) throws(Rejection) {
        let read = item.canonicalJSON.withUnsafeBytes { b -> Result<([(String, JSONValue)], Int), Rejection> in
            guard b.count >= 2, b[0] == UInt8(ascii: "{") else {
                return .failure(Rejection(message: "item is not an object"))
            }
            // The members meta, id, name and platform come from; the rest are only counted.
            var kept: [(String, JSONValue)] = []
            var others = 0
            var scanner = JSONObjectScanner(b)
            while let m = scanner.next() {
                // Canonical keys escape only quotes, backslashes and control characters, none
                // of which a kept key has: comparing the raw bytes is exact.
                let key = UnsafeRawBufferPointer(rebasing: b[m.key])
                guard let name = Self.keptKey(key, nameField: type.nameField) else {
                    others += 1
                    continue
                }
                if b[m.value.lowerBound] == UInt8(ascii: "\"") {
                    kept.append((name, .string(JSONObjectScanner.string(b, m.value))))
                } else if let value = try? JSONParser().parse(UnsafeRawBufferPointer(rebasing: b[m.value])) {
                    kept.append((name, value))
                } else {
                    return .failure(Rejection(message: "item member \"\(name)\" cannot be read"))
                }
            }
            return .success((kept, others))
        }
        let (members, others) = try read.get()
        func member(_ key: String) -> JSONValue? { members.first { $0.0 == key }?.1 }
        guard let idValue = member("id"), let id = idValue.stringValue else {
            throw Rejection(message: member("id") == nil ? "item has no \"id\"" : "item \"id\" is not a string")
        }
        guard !id.isEmpty, id.utf8.count <= Limits.externalIDBytes, !id.utf8.contains(where: { $0 < 0x20 }) else {
            throw Rejection(message: "item \"id\" is empty, longer than \(Limits.externalIDBytes) bytes, or has control characters")
        }
        let meta = MetaWhitelist.extract(members: members, nameField: type.nameField)
        var name = member(type.nameField)?.stringValue
        if let n = name, n.utf8.count > Limits.displayNameBytes { name = n.utf8Prefix(maxBytes: Limits.displayNameBytes) }
        let platform = type.platform(odataType: member("@odata.type")?.stringValue, platforms: member("platforms")?.stringValue)
        let sha = SHA256.hash(data: item.canonicalJSON).withUnsafeBytes { Hex.encode($0) }
        self.init(runID: runID, selectionHash: selectionHash, policyType: type.key, externalID: id, displayName: name,
                  category: type.category.rawValue, platform: platform, meta: meta.meta,
                  contentSHA256: sha, droppedMetaKeys: meta.droppedKeys + others)
    }

    /// Top-level keys of a Graph object that observations read.
    static let keptKeys: [String] = ["id"] + MetaWhitelist.fields.map(\.member)
    private static let keptKeyBytes: [[UInt8]] = keptKeys.map { Array($0.utf8) }

    private static func keptKey(_ key: UnsafeRawBufferPointer, nameField: String) -> String? {
        for (i, k) in keptKeyBytes.enumerated() where k.count == key.count && key.elementsEqual(k) { return keptKeys[i] }
        if key.elementsEqual(nameField.utf8) { return nameField }
        return nil
    }
}
