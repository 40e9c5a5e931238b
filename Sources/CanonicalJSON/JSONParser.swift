/// A byte-level JSON parser (RFC 8259, I-JSON rules).
///
/// PLACEHOLDER API — to be implemented by the CanonicalJSON work item.
public struct JSONParser: Sendable {
    public var limits: JSONLimits
    public init(limits: JSONLimits = .default) { self.limits = limits }

    public func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        fatalError("not implemented")
    }

    public func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        var result: Result<JSONValue, JSONParseError> = .failure(JSONParseError(offset: 0, message: "empty"))
        bytes.withUnsafeBytes { buf in result = Result { () throws(JSONParseError) in try parse(buf) } }
        return try result.get()
    }

    public func parse(_ string: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(string.utf8))
    }
}

public struct JSONLimits: Sendable, Hashable {
    public var maxDepth: Int
    public var maxStringBytes: Int
    public var maxInputBytes: Int
    public init(maxDepth: Int, maxStringBytes: Int, maxInputBytes: Int) {
        self.maxDepth = maxDepth; self.maxStringBytes = maxStringBytes; self.maxInputBytes = maxInputBytes
    }
    public static let `default` = JSONLimits(maxDepth: 128, maxStringBytes: 1 << 20, maxInputBytes: 64 << 20)
}

public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var offset: Int
    public var message: String
    public init(offset: Int, message: String) { self.offset = offset; self.message = message }
    public var description: String { "invalid JSON at byte \(offset): \(message)" }
}
