import CanonicalJSON

/// One line of an offline export: `{"policy_type": K, "item": {…}}` or
/// `{"policy_type": K, "failed": {"code": C, "message": M}}`.
public enum ExportLine: Sendable, Hashable {
    case item(policyType: String, item: JSONValue)
    case failed(policyType: String, code: String, message: String)

    /// A line that cannot be used, with the policy type when it could still be read.
    public struct Error: Swift.Error, Sendable, Hashable {
        public var policyType: String?
        public var message: String
    }

    /// The limits a line is parsed with.
    public static let limits = JSONLimits(maxDepth: 64, maxStringBytes: 1 << 20, maxInputBytes: 8 << 20)

    /// Parses one line's bytes (without the newline).
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(Error) -> ExportLine {
        let value: JSONValue
        do { value = try JSONParser(limits: limits).parse(bytes) } catch {
            throw Error(policyType: nil, message: "not valid JSON: \(error)")
        }
        guard case .object(let o) = value else { throw Error(policyType: nil, message: "line is \(value.typeName), not an object") }
        guard let type = o["policy_type"]?.stringValue else { throw Error(policyType: nil, message: "\"policy_type\" is missing or not a string") }
        if let extra = o.keys.sorted().first(where: { !["policy_type", "item", "failed"].contains($0) }) {
            throw Error(policyType: type, message: "unknown key \"\(extra)\"")
        }
        switch (o["item"], o["failed"]) {
        case (let item?, nil):
            guard case .object = item else { throw Error(policyType: type, message: "\"item\" is \(item.typeName), not an object") }
            return .item(policyType: type, item: item)
        case (nil, let failed?):
            guard case .object(let f) = failed else { throw Error(policyType: type, message: "\"failed\" is not an object") }
            return .failed(policyType: type, code: f["code"]?.stringValue ?? "unknown", message: f["message"]?.stringValue ?? "")
        case (nil, nil):
            throw Error(policyType: type, message: "line has neither \"item\" nor \"failed\"")
        default:
            throw Error(policyType: type, message: "line has both \"item\" and \"failed\"")
        }
    }
}
