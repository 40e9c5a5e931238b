import ArgumentParser
import CommandSupport

struct AsOfCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "as-of", abstract: "Not built yet.")
    @OptionGroup var store: StoreOptions
    func run() async throws { throw CommandFailure("atlas-replay as-of is not built yet") }
}
