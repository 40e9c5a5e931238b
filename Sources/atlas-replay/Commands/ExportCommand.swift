import ArgumentParser
import CommandSupport

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Not built yet.")
    @OptionGroup var store: StoreOptions
    func run() async throws { throw CommandFailure("atlas-replay export is not built yet") }
}
