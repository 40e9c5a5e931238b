import ArgumentParser
import CommandSupport
import Inventory

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List a tenant's sync runs, newest first.")

    @OptionGroup var store: StoreOptions
    @Option(help: "The tenant.") var tenant: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let s = try store.openForReading()
        let runs = try InventoryQueries(store: s).runs(tenant: tenant)
        if json { Output.json(.array(runs.map(\.json))) } else { Output.runs(runs) }
    }
}
