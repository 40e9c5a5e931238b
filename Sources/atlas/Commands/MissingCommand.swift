import ArgumentParser
import CanonicalJSON
import CommandSupport
import Inventory

struct MissingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "missing",
        abstract: "Items the latest completed run of a tenant + selection did not see (derived, never stored).",
        discussion: """
            Give the selection as JSON (--selection) or by its hash as `atlas runs` shows it (--selection-hash, the full
            hash or a unique prefix of at least 8 hex digits; the selection is recovered from the tenant's runs).
            With --format ndjson or csv, one row per item with its state (missing or unknown) and the confidence.
            Exit codes: 0 success; 1 failure; 2 usage error (also an unknown --selection-hash);
            3 with --fail-if-missing when any item is missing at high confidence.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var logging: LoggingOptions
    @Option(help: "The tenant (any case; stored lowercased).", transform: TenantArgument.canonical) var tenant: String
    @Option(help: "The selection as JSON, or @FILE.") var selection: String?
    @Option(name: .customLong("selection-hash"), help: "The selection's hash (or a unique prefix of 8+ hex digits) instead of --selection.")
    var selectionHash: String?
    @Flag(name: .customLong("fail-if-missing"), help: "Exit with code 3 when any item is missing at high confidence (for schedulers and CI).")
    var failIfMissing = false
    @OptionGroup var output: FormatOptions

    func validate() throws {
        guard (selection == nil) != (selectionHash == nil) else { throw ValidationError("give exactly one of --selection and --selection-hash") }
        if let selectionHash {
            guard selectionHash.count >= 8, selectionHash.count <= 64, selectionHash.allSatisfy(\.isHexDigit) else {
                throw ValidationError("--selection-hash \"\(selectionHash.prefix(80))\" must be 8-64 hex digits")
            }
        }
    }

    func run() async throws {
        let s = try store.openForReading()
        let queries = InventoryQueries(store: s)
        let chosen: Selection
        if let selection {
            let parsed = try SelectionArgument.parse(selection)
            SelectionArgument.reportDropped(parsed)
            chosen = parsed.selection
        } else {
            TenantArgument.noteIfUnknown(tenant, queries: queries)
            chosen = try Self.recover(hash: selectionHash!.lowercased(), tenant: tenant, runs: try queries.runs(tenant: tenant))
        }
        let report = try queries.missing(tenant: tenant, selection: chosen)
        if report.latestRun == nil { TenantArgument.noteIfUnknown(tenant, queries: queries) }
        let confidence = JSONValue.string(report.lowConfidence ? "low" : "high")
        let rows = report.missing.map { Self.row($0, state: "missing", confidence) } + report.unknown.map { Self.row($0, state: "unknown", confidence) }
        output.format.render(json: report.json, rows: rows, columns: ["state", "confidence"] + Output.itemCSVColumns) {
            Output.missing(report)
        }
        if failIfMissing && !report.lowConfidence && !report.missing.isEmpty { throw ExitCode(3) }
    }

    static func row(_ item: InventoryItem, state: String, _ confidence: JSONValue) -> JSONValue {
        guard case .object(var members) = item.json else { return item.json }
        members["state"] = .string(state)
        members["confidence"] = confidence
        return .object(members)
    }

    /// The selection whose hash is `hash` (or starts with it), from `tenant`'s runs.
    static func recover(hash: String, tenant: String, runs: [SyncRun]) throws -> Selection {
        do { return try InventoryQueries.selection(hash: hash, tenant: tenant, runs: runs) } catch {
            throw CommandFailure.usage(error.description)
        }
    }
}
