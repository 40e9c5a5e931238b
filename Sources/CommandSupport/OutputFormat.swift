package import ArgumentParser
package import CanonicalJSON
import Foundation

/// How a listing command prints its answer.
package enum OutputFormat: String, Sendable, CaseIterable, ExpressibleByArgument {
    /// A readable table (the default).
    case table
    /// One JSON document (canonical JSON).
    case json
    /// One canonical JSON object per line, one line per row.
    case ndjson
    /// RFC 4180 CSV with one header row.
    case csv
}

/// The `--format` option (and its `--json` shorthand) every listing command shares.
///
/// Adopt it with `@OptionGroup var output: FormatOptions`, then print with
/// `output.format.render(json:rows:table:)`.
package struct FormatOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("format"), help: "Output format: table, json, ndjson or csv (default table).")
    package var explicitFormat: OutputFormat?

    @Flag(help: "Print JSON (the same as --format json).")
    package var json = false

    package init() {}

    package func validate() throws {
        if json, let explicitFormat, explicitFormat != .json {
            throw ValidationError("--json and --format \(explicitFormat.rawValue) disagree; give one of them")
        }
    }

    /// The format asked for.
    package var format: OutputFormat { json ? .json : (explicitFormat ?? .table) }
}

extension OutputFormat {
    /// Prints an answer in this format.
    ///
    /// - Parameters:
    ///   - json: the document `json` prints (by default, the rows as one array).
    ///   - rows: one JSON object per row, for `ndjson` (one line each) and `csv` (one record each).
    ///   - columns: the CSV columns, in order (by default the rows' keys in first-seen, sorted order).
    ///   - table: prints the readable table.
    package func render(json: JSONValue? = nil, rows: [JSONValue], columns: [String]? = nil, table: () -> Void) {
        switch self {
        case .table: table()
        case .json: Output.json(json ?? .array(rows))
        case .ndjson: for row in rows { Output.json(row) }
        case .csv: print(CSVWriter.document(rows: rows, columns: columns), terminator: "")
        }
    }
}
