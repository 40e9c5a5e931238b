import CanonicalJSON
import Foundation

/// Converts between ``JSONValue`` and JSON text with Foundation's coders.
///
/// The simulator is not a hot path, so it does not wait for `CanonicalJSON`'s own parser.
enum JSONBridge {
    /// Errors raised while reading JSON text.
    struct DecodingFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Parses `data` as one JSON value.
    static func decode(_ data: Data) throws -> JSONValue {
        do {
            return try JSONDecoder().decode(Box.self, from: data).value
        } catch {
            throw DecodingFailure(description: "invalid JSON: \(error)")
        }
    }

    /// Parses UTF-8 JSON text.
    static func decode(_ text: String) throws -> JSONValue {
        try decode(Data(text.utf8))
    }

    /// Serializes `value` with sorted keys and unescaped slashes.
    static func encode(_ value: JSONValue, pretty: Bool = false) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty
            ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
            : [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a tree of strings, numbers and containers cannot fail.
        return (try? encoder.encode(Box(value))) ?? Data("null".utf8)
    }

    /// Serializes `value` to a `String`.
    static func encodeString(_ value: JSONValue, pretty: Bool = false) -> String {
        String(decoding: encode(value, pretty: pretty), as: UTF8.self)
    }

    /// A `Codable` wrapper around ``JSONValue``.
    struct Box: Codable {
        var value: JSONValue

        init(_ value: JSONValue) { self.value = value }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                value = .null
            } else if let b = try? container.decode(Bool.self) {
                value = .bool(b)
            } else if let d = try? container.decode(Double.self) {
                value = .number(d)
            } else if let s = try? container.decode(String.self) {
                value = .string(s)
            } else if let a = try? container.decode([Box].self) {
                value = .array(a.map(\.value))
            } else if let o = try? container.decode([String: Box].self) {
                value = .object(o.mapValues(\.value))
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch value {
            case .null: try container.encodeNil()
            case .bool(let b): try container.encode(b)
            case .number(let d):
                if d.isFinite, d.rounded(.towardZero) == d, abs(d) < 9_007_199_254_740_992 {
                    try container.encode(Int64(d))
                } else {
                    try container.encode(d)
                }
            case .string(let s): try container.encode(s)
            case .array(let a): try container.encode(a.map(Box.init))
            case .object(let o): try container.encode(o.mapValues(Box.init))
            }
        }
    }
}
