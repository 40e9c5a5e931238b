import ArgumentParser
import CommandSupport

/// `atlas`: the operator's command line.
struct Atlas: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "atlas",
        abstract: "Auditable, tenant-scoped inventory of Microsoft Intune / Entra configuration.",
        discussion: "Exit codes: 0 success, 1 failure, 2 usage error, 3 missing items (missing --fail-if-missing). The store is --store, $ATLAS_STORE or ./atlas-store.",
        version: BuildInfo.versionText,
        subcommands: [SyncCommand.self, ItemsCommand.self, RunsCommand.self, MissingCommand.self, TenantsCommand.self, HistoryCommand.self, ChangesCommand.self, SelectionCommand.self, ServeCommand.self, TokenCommand.self]
    )
}

@main
enum AtlasMain {
    static func main() async {
        await CommandMain.run(Atlas.self)
    }
}
