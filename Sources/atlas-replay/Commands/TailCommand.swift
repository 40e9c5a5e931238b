import ArgumentParser
import CommandSupport

struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tail", abstract: "Not built yet.")
    @OptionGroup var store: StoreOptions
    func run() async throws { throw CommandFailure("atlas-replay tail is not built yet") }
}
