/// RFC 8785 (JSON Canonicalization Scheme) serialization.
///
/// PLACEHOLDER API — to be implemented by the CanonicalJSON work item.
public enum CanonicalJSON {
    /// The canonical UTF-8 bytes of `value`.
    /// - Throws: ``CanonicalJSONError`` when a number is NaN or infinite.
    public static func serialize(_ value: JSONValue) throws -> [UInt8] {
        var out: [UInt8] = []
        try write(value, into: &out)
        return out
    }

    /// Appends the canonical UTF-8 bytes of `value` to `out`.
    public static func write(_ value: JSONValue, into out: inout [UInt8]) throws {
        fatalError("not implemented")
    }

    public static func writeString(_ s: String, into out: inout [UInt8]) { fatalError("not implemented") }

    /// ECMAScript `Number.prototype.toString` of `value` (RFC 8785 section 3.2.2.3).
    public static func formatNumber(_ value: Double) throws -> String {
        fatalError("not implemented")
    }
}
