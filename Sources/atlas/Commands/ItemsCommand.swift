import ArgumentParser
import CanonicalJSON
import CommandSupport
import Inventory

struct ItemsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "items", abstract: "List a tenant's last-seen inventory.",
        discussion: """
            Without --limit, the whole inventory (of --policy-type, if given). With --limit N, one page of at most N items;
            the next page is read with --after CURSOR, the cursor the page ends with: `next` in --json output
            ({"items":[…],"next":CURSOR or null}), a last `next: CURSOR` line in the table, and on stderr for ndjson and
            csv. A cursor is opaque; a malformed one, or one of another policy type than --policy-type, is a usage error.
            """)

    /// The largest page.
    static let largestPage = 100_000

    @OptionGroup var store: StoreOptions
    @OptionGroup var logging: LoggingOptions
    @Option(help: "The tenant (any case; stored lowercased).", transform: TenantArgument.canonical) var tenant: String
    @Option(name: .customLong("policy-type"), help: "Only this policy type (registry key).") var policyType: String?
    @Option(help: "At most this many items (1-\(ItemsCommand.largestPage)): one page; its cursor reads the next.") var limit: Int?
    @Option(help: "Start after this cursor (the `next` of the previous page).") var after: String?
    @OptionGroup var output: FormatOptions

    func validate() throws {
        if let policyType, PolicyTypeRegistry.type(policyType) == nil {
            throw ValidationError("unknown policy type \"\(policyType)\"; known: \(PolicyTypeRegistry.all.map(\.key).joined(separator: ", "))")
        }
        if let limit, !(1...Self.largestPage).contains(limit) {
            throw ValidationError("--limit must be 1-\(Self.largestPage), not \(limit)")
        }
        if let after {
            guard let cursor = ItemsCursor(text: after) else {
                throw ValidationError("--after \"\(after.prefix(80))\" is not a cursor of `atlas items` (give the `next` a page ended with)")
            }
            if let policyType, cursor.policyType != policyType {
                throw ValidationError("--after is a cursor into \(cursor.policyType.prefix(64)), not --policy-type \(policyType)")
            }
        }
    }

    func run() async throws {
        let s = try store.openForReading()
        let queries = InventoryQueries(store: s)
        guard limit != nil || after != nil else {
            let items = try queries.items(tenant: tenant, policyType: policyType)
            if items.isEmpty { TenantArgument.noteIfUnknown(tenant, queries: queries) }
            output.format.render(rows: items.map(\.json), columns: Output.itemCSVColumns) {
                Output.items(items)
                print("\(items.count) item(s)")
            }
            return
        }
        let page = try queries.items(tenant: tenant, policyType: policyType, after: after.flatMap(ItemsCursor.init(text:)),
                                     limit: limit ?? Self.largestPage)
        if page.items.isEmpty && after == nil { TenantArgument.noteIfUnknown(tenant, queries: queries) }
        output.format.render(json: page.json, rows: page.items.map(\.json),
                             columns: Output.itemCSVColumns) {
            Output.items(page.items)
            print("\(page.items.count) item(s)")
            if let n = page.next { print("next: \(n.text)") }
        }
        if let n = page.next, output.format == .ndjson || output.format == .csv { Output.note("next: \(n.text)") }
    }
}
