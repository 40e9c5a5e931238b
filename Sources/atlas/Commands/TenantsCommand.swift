import ArgumentParser
import CommandSupport
import Inventory

struct TenantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenants", abstract: "List the store's tenants with their item and run counts and latest run.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var logging: LoggingOptions
    @OptionGroup var output: FormatOptions

    func run() async throws {
        let s = try store.openForReading()
        let tenants = try InventoryQueries(store: s).tenants()
        output.format.render(rows: tenants.map(\.json), columns: [
            "tenant", "items", "runs", "latest_run_id", "latest_status", "latest_started_at", "latest_finished_at",
        ]) {
            Output.table(["TENANT", "ITEMS", "RUNS", "LATEST RUN", "STATUS", "FINISHED"], tenants.map {
                [$0.tenant, String($0.items), String($0.runs), $0.latestRun?.runID ?? "-", $0.latestRun?.status.rawValue ?? "-",
                 $0.latestRun?.finishedAt?.description ?? "-"]
            })
        }
    }
}
