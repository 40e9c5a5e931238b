import ArgumentParser
import CommandSupport
import Inventory

struct ItemsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "items", abstract: "List a tenant's last-seen inventory.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var logging: LoggingOptions
    @Option(help: "The tenant (any case; stored lowercased).", transform: TenantArgument.canonical) var tenant: String
    @Option(name: .customLong("policy-type"), help: "Only this policy type (registry key).") var policyType: String?
    @OptionGroup var output: FormatOptions

    func validate() throws {
        if let policyType, PolicyTypeRegistry.type(policyType) == nil {
            throw ValidationError("unknown policy type \"\(policyType)\"; known: \(PolicyTypeRegistry.all.map(\.key).joined(separator: ", "))")
        }
    }

    func run() async throws {
        let s = try store.openForReading()
        let queries = InventoryQueries(store: s)
        let items = try queries.items(tenant: tenant, policyType: policyType)
        if items.isEmpty { TenantArgument.noteIfUnknown(tenant, queries: queries) }
        output.format.render(rows: items.map(\.json), columns: Output.itemCSVColumns) {
            Output.items(items)
            print("\(items.count) item(s)")
        }
    }
}
