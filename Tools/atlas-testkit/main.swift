// atlas-testkit: a child process for cross-process tests.
//
// Usage: atlas-testkit <subcommand> [--option value ...]
import Foundation

let subcommands = SubscribeCommands.all
let argv = Array(CommandLine.arguments.dropFirst())
guard let name = argv.first, let command = subcommands[name] else {
    let usage = "usage: atlas-testkit <subcommand> [options]\n"
        + subcommands.keys.sorted().map { "  \(subcommands[$0]!.usage)" }.joined(separator: "\n")
    FileHandle.standardError.write(Data((usage + "\n").utf8))
    exit(argv.first.map { ["-h", "--help", "help"].contains($0) } == true ? 0 : 64)
}
do {
    exit(try await command.run(Array(argv.dropFirst())))
} catch {
    FileHandle.standardError.write(Data("atlas-testkit \(name): \(error)\n".utf8))
    exit(1)
}
