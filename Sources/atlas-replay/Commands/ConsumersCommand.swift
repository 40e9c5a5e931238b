import ArgumentParser
import CommandSupport

struct ConsumersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "consumers", abstract: "Not built yet.")
    @OptionGroup var store: StoreOptions
    func run() async throws { throw CommandFailure("atlas-replay consumers is not built yet") }
}
