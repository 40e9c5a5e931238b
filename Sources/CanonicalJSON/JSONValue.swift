/// A JSON value as defined by RFC 8259, restricted to I-JSON (RFC 7493):
/// numbers are IEEE-754 doubles and object keys are unique.
///
/// Objects are unordered; ``CanonicalJSON`` orders their members by the UTF-16 code units of
/// the keys when it serializes them (RFC 8785).
package enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

extension JSONValue {
    /// The member named `key` when this is an object, otherwise `nil`.
    package subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The string when this is a string, otherwise `nil`.
    package var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The number when this is a number, otherwise `nil`.
    package var doubleValue: Double? {
        if case .number(let d) = self { return d }
        return nil
    }

    /// The number as an exact integer when this is a number with no fractional part that
    /// fits in `Int64`, otherwise `nil`.
    package var int64Value: Int64? {
        guard case .number(let d) = self, d.isFinite, d.rounded(.towardZero) == d,
              d >= -9_223_372_036_854_775_808.0, d < 9_223_372_036_854_775_808.0 else { return nil }
        return Int64(d)
    }

    /// The number as an `Int` when it is an exact integer, otherwise `nil`.
    package var intValue: Int? { int64Value.map { Int($0) } }

    /// The Boolean when this is `true` or `false`, otherwise `nil`.
    package var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements when this is an array, otherwise `nil`.
    package var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The members when this is an object, otherwise `nil`.
    package var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// `true` when this is `null`.
    package var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The JSON type's name, for error messages: `null`, `boolean`, `number`, `string`,
    /// `array` or `object`.
    package var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    package init(stringLiteral value: String) { self = .string(value) }
    package init(integerLiteral value: Int) { self = .number(Double(value)) }
    package init(floatLiteral value: Double) { self = .number(value) }
    package init(booleanLiteral value: Bool) { self = .bool(value) }
    package init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    package init(dictionaryLiteral elements: (String, JSONValue)...) {
        var o: [String: JSONValue] = [:]
        for (k, v) in elements { o[k] = v }
        self = .object(o)
    }
    package init(nilLiteral: ()) { self = .null }
}
