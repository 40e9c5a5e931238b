import ArgumentParser
import CommandSupport

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Run the end-to-end demo against a built-in Graph simulator.")
    @OptionGroup var store: StoreOptions
    func run() async throws { throw CommandFailure("demo not built yet") }
}
