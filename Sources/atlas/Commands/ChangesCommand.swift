import ArgumentParser
import CanonicalJSON
import CommandSupport
import EventLog
import Inventory

struct ChangesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "changes",
        abstract: "What was added, removed and changed between two completed runs of a tenant + selection.",
        discussion: """
            Defaults: --to-run is the latest completed run of the tenant + selection, --from-run the \
            completed run before it. Only types enumerated completely in both runs are compared; the \
            others are listed as unknown_types. Opens the store read-only.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var logging: LoggingOptions
    @Option(help: "The tenant (any case; stored lowercased).", transform: TenantArgument.canonical) var tenant: String
    @Option(help: "The selection as JSON, @FILE, or its 64-hex selection hash.") var selection: String
    @Option(name: .customLong("from-run"), help: "The earlier run's id (default: the completed run before --to-run).")
    var fromRun: String?
    @Option(name: .customLong("to-run"), help: "The later run's id (default: the latest completed run).")
    var toRun: String?
    @OptionGroup var output: FormatOptions

    static let csvColumns = ["change", "policy_type", "external_id", "display_name", "content_sha256", "previous_content_sha256"]

    func validate() throws {
        for (name, value) in [("--from-run", fromRun), ("--to-run", toRun)] {
            if let value, EventID(value) == nil { throw ValidationError("\(name) \"\(value.prefix(64))\" is not a run id (a UUID)") }
        }
    }

    func run() async throws {
        let hash: String
        if selection.utf8.count == 64, selection.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) {
            hash = selection
        } else {
            let parsed = try SelectionArgument.parse(selection)
            SelectionArgument.reportDropped(parsed)
            hash = parsed.selection.hash
        }
        let s = try store.openForReading()
        let changes: RunChanges
        do {
            changes = try InventoryQueries(store: s).changes(tenant: tenant, selectionHash: hash, fromRunID: fromRun, toRunID: toRun)
        } catch let e as InventoryQueries.ChangesError {
            throw CommandFailure.usage(e.description)
        }
        let groups = [("added", changes.added), ("removed", changes.removed), ("changed", changes.changed)]
        // ndjson and csv: one row per item, its kind in `change`; json: the whole document.
        let rows: [JSONValue] = groups.flatMap { kind, items in
            items.map { item -> JSONValue in
                guard case .object(var o) = item.json else { return item.json }
                o["change"] = .string(kind)
                return .object(o)
            }
        }
        if output.format == .ndjson || output.format == .csv, !changes.unknownTypes.isEmpty {
            Output.note("not compared (not enumerated completely in both runs): \(changes.unknownTypes.joined(separator: ", "))")
        }
        output.format.render(json: changes.json, rows: rows, columns: Self.csvColumns) {
            print("from run \(changes.fromRun.runID) (finished \(changes.fromRun.finishedAt?.description ?? "-"))")
            print("to run   \(changes.toRun.runID) (finished \(changes.toRun.finishedAt?.description ?? "-"))")
            Output.table(["CHANGE", "TYPE", "EXTERNAL ID", "NAME", "CONTENT"], groups.flatMap { kind, items in
                items.map { [kind, $0.policyType, $0.externalID, $0.displayName ?? "-",
                             ($0.previousContentSHA256.map { String($0.prefix(12)) + " -> " } ?? "") + String($0.contentSHA256.prefix(12))] }
            })
            print("\(changes.added.count) added, \(changes.removed.count) removed, \(changes.changed.count) changed; unknown types: "
                  + (changes.unknownTypes.isEmpty ? "none" : changes.unknownTypes.joined(separator: ", ")))
        }
    }
}
