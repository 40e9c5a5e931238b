import CanonicalJSON
import Crypto
import EventLog

extension ItemObserved {
    /// Limits on what an observation keeps of a Graph object.
    public enum Limits {
        /// Longest external id, in UTF-8 bytes; longer ids are rejected.
        public static let externalIDBytes = 256
        /// Longest display name kept, in UTF-8 bytes; longer names are truncated.
        public static let displayNameBytes = 1024
    }

    /// Why a Graph object cannot be observed.
    public struct Rejection: Error, Sendable, Hashable {
        public var message: String
    }

    /// Builds the observation of Graph object `item` of `type` for a run.
    ///
    /// - Throws: ``Rejection`` when the object is not an object or lacks a usable `id`.
    public init(graphObject item: JSONValue, type: PolicyType, runID: String, selectionHash: String) throws(Rejection) {
        guard case .object(let o) = item else { throw Rejection(message: "item is \(item.typeName), not an object") }
        guard let id = o["id"]?.stringValue else {
            throw Rejection(message: o["id"] == nil ? "item has no \"id\"" : "item \"id\" is not a string")
        }
        guard !id.isEmpty, id.utf8.count <= Limits.externalIDBytes, !id.utf8.contains(where: { $0 < 0x20 }) else {
            throw Rejection(message: "item \"id\" is empty, longer than \(Limits.externalIDBytes) bytes, or has control characters")
        }
        let canonical: [UInt8]
        do { canonical = try CanonicalJSON.serialize(item) } catch {
            throw Rejection(message: "item \(id) cannot be canonicalized: \(error)")
        }
        let meta = MetaWhitelist.extract(from: o, nameField: type.nameField)
        var name = o[type.nameField]?.stringValue
        if let n = name, n.utf8.count > Limits.displayNameBytes { name = n.utf8Prefix(maxBytes: Limits.displayNameBytes) }
        self.init(runID: runID, selectionHash: selectionHash, policyType: type.key, externalID: id, displayName: name,
                  category: type.category.rawValue, platform: type.platform(of: item), meta: meta.meta,
                  contentSHA256: Hex.encode(Array(SHA256.hash(data: canonical))), droppedMetaKeys: meta.droppedKeys)
    }
}
