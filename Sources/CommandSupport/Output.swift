package import CanonicalJSON
import Foundation
package import Inventory
import EventLog

/// Writing command output: JSON lines or readable tables.
package enum Output {
    /// Prints `value` as one line of canonical JSON.
    package static func json(_ value: JSONValue) {
        let text = (try? CanonicalJSON.serialize(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
        print(text)
    }

    /// Prints a table with a header row, columns padded to their widest cell.
    package static func table(_ header: [String], _ rows: [[String]]) {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        print(line(header))
        print(line(widths.map { String(repeating: "-", count: $0) }))
        for r in rows { print(line(r)) }
    }

    /// Writes `text` to stderr.
    package static func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// The CSV columns of an item (`InventoryItem.json`).
    package static let itemCSVColumns = [
        "policy_type", "external_id", "display_name", "category", "platform", "content_sha256", "first_seen_at",
        "last_seen_at", "last_seen_run_id", "meta",
    ]

    /// A human table of items.
    package static func items(_ items: [InventoryItem]) {
        table(["TYPE", "EXTERNAL ID", "NAME", "PLATFORM", "LAST SEEN", "CONTENT"],
              items.map { [$0.policyType, $0.externalID, clip($0.displayName ?? "-", 48), $0.platform ?? "-",
                           $0.lastSeenAt.description, String($0.contentSHA256.prefix(12))] })
    }

    /// A human table of runs.
    package static func runs(_ runs: [SyncRun]) {
        table(["RUN", "STATUS", "SELECTION", "STARTED", "FINISHED", "OBSERVED", "UPSERTED", "ERRORS", "CODES"],
              runs.map { [$0.runID, $0.status.rawValue, String($0.selectionHash.prefix(12)), $0.startedAt?.description ?? "-",
                          $0.finishedAt?.description ?? "-", String($0.observed), String($0.upserted), String($0.errors),
                          $0.errorCodes.map(\.rawValue).joined(separator: ",")] })
    }

    /// A human rendering of a missing report.
    package static func missing(_ report: MissingReport) {
        if let run = report.latestRun {
            print("latest completed run: \(run.runID) status=\(run.status.rawValue) had_errors=\(run.hadErrors) finished=\(run.finishedAt?.description ?? "-")")
        } else {
            print("no completed run of this tenant and selection")
        }
        print("confidence: \(report.lowConfidence ? "LOW" : "high")")
        print("missing (\(report.missing.count)):")
        if !report.missing.isEmpty { items(report.missing) }
        print("unknown (\(report.unknown.count)) — their type was not enumerated completely:")
        if !report.unknown.isEmpty { items(report.unknown) }
    }

    static func clip(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(n - 1)) + "…" }
}
