import ArgumentParser
import CommandSupport
import Inventory

struct MissingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "missing",
        abstract: "Items the latest completed run of a tenant + selection did not see (derived, never stored).")

    @OptionGroup var store: StoreOptions
    @Option(help: "The tenant.") var tenant: String
    @Option(help: "The selection as JSON, or @FILE.") var selection: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let parsed = try SelectionArgument.parse(selection)
        SelectionArgument.reportDropped(parsed)
        let s = try store.openForReading()
        let report = try InventoryQueries(store: s).missing(tenant: tenant, selection: parsed.selection)
        if json { Output.json(report.json) } else { Output.missing(report) }
    }
}
