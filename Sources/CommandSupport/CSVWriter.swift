package import CanonicalJSON
import Foundation

/// Writes RFC 4180 CSV: CRLF line ends, one header row, a field quoted when it holds a comma,
/// a double quote, CR or LF (and its double quotes doubled).
package enum CSVWriter {
    /// The CSV document of `rows` (JSON objects): the header row, then one record per row.
    /// A column is a key or a dotted path into nested objects (`counts.observed`).
    /// Strings are written as they are, numbers and booleans as JSON writes them, null and
    /// absent keys as empty fields, arrays and objects as their canonical JSON text.
    package static func document(rows: [JSONValue], columns: [String]? = nil) -> String {
        let columns = columns ?? Self.columns(of: rows)
        var out = record(columns)
        for row in rows {
            out += record(columns.map { cell(value(row, at: $0)) })
        }
        return out
    }

    /// One CSV record, with its CRLF.
    package static func record(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }

    /// One field, quoted when it must be.
    package static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The keys of `rows`' objects: the first row's in sorted order, then any later ones as met.
    static func columns(of rows: [JSONValue]) -> [String] {
        var seen = Set<String>()
        var out: [String] = []
        for row in rows {
            guard case .object(let members) = row else { continue }
            for key in members.keys.sorted() where seen.insert(key).inserted { out.append(key) }
        }
        return out
    }

    /// The value of `column` in `row`: its key, or a dotted path into nested objects
    /// (`counts.observed`).
    static func value(_ row: JSONValue, at column: String) -> JSONValue? {
        if let v = row[column] { return v }
        var v: JSONValue? = row
        for part in column.split(separator: ".", omittingEmptySubsequences: false) { v = v?[String(part)] }
        return v
    }

    static func cell(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: return ""
        case .string(let s)?: return s
        case let v?: return (try? CanonicalJSON.serialize(v)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
    }
}
