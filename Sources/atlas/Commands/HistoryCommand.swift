import ArgumentParser
import CanonicalJSON
import CommandSupport
import Inventory

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "What each finished run of a tenant said about one item, from its first observation on.",
        discussion: """
            One entry per finished run of the tenant (any selection) whose resolved types include the \
            policy type, in log order, from the first run that observed the item. status: observed, \
            not_seen (type enumerated completely, item absent) or unknown (type incomplete). change: \
            first_seen, changed, unchanged, disappeared, absent, reappeared or unknown. An item no run \
            observed has no entries (exit 0, noted on stderr). Opens the store read-only.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var logging: LoggingOptions
    @Option(help: "The tenant (any case; stored lowercased).", transform: TenantArgument.canonical) var tenant: String
    @Option(name: .customLong("policy-type"), help: "The item's policy type (registry key).") var policyType: String
    @Option(help: "The item's external id (its Graph id).") var id: String
    @OptionGroup var output: FormatOptions

    static let csvColumns = ["run_id", "selection_hash", "finished_at", "position", "status", "change", "content_sha256"]

    func validate() throws {
        if PolicyTypeRegistry.type(policyType) == nil {
            throw ValidationError("unknown policy type \"\(policyType)\"; known: \(PolicyTypeRegistry.all.map(\.key).joined(separator: ", "))")
        }
        if id.isEmpty { throw ValidationError("--id must not be empty") }
    }

    func run() async throws {
        let s = try store.openForReading()
        let history = try InventoryQueries(store: s).history(tenant: tenant, policyType: policyType, externalID: id)
        if history.entries.isEmpty {
            Output.note("no finished run of tenant \(tenant) observed \(policyType) \(id)")
        }
        output.format.render(json: history.json, rows: history.entries.map(\.json), columns: Self.csvColumns) {
            Output.table(["RUN", "FINISHED", "POSITION", "STATUS", "CHANGE", "CONTENT"],
                         history.entries.map { [$0.runID, $0.finishedAt?.description ?? "-", String($0.position), $0.status.rawValue,
                                                $0.change.rawValue, $0.contentSHA256.map { String($0.prefix(12)) } ?? "-"] })
        }
    }
}
