import ArgumentParser
import CommandSupport

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Not built yet.")
    @OptionGroup var store: StoreOptions
    func run() async throws { throw CommandFailure("atlas-replay audit is not built yet") }
}
