import ArgumentParser
import CommandSupport
import Inventory

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List a tenant's sync runs, newest first.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var logging: LoggingOptions
    @Option(help: "The tenant (any case; stored lowercased).", transform: TenantArgument.canonical) var tenant: String
    @OptionGroup var output: FormatOptions

    /// The CSV columns: the run's scalars and counts (`--format json` has everything).
    static let csvColumns = [
        "run_id", "tenant", "status", "had_errors", "selection_hash", "source", "started_at", "finished_at",
        "counts.observed", "counts.upserted", "counts.errors", "error_codes", "error_context", "correlation_id",
    ]

    func run() async throws {
        let s = try store.openForReading()
        let queries = InventoryQueries(store: s)
        let runs = try queries.runs(tenant: tenant)
        if runs.isEmpty { TenantArgument.noteIfUnknown(tenant, queries: queries) }
        output.format.render(rows: runs.map(\.json), columns: Self.csvColumns) { Output.runs(runs) }
    }
}
