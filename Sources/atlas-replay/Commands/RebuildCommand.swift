import ArgumentParser
import CommandSupport

struct RebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rebuild", abstract: "Not built yet.")
    @OptionGroup var store: StoreOptions
    func run() async throws { throw CommandFailure("atlas-replay rebuild is not built yet") }
}
