// atlas-testkit: a child process for cross-process tests.
//
// Usage: atlas-testkit <subcommand> [--option value ...]
// To add a subcommand, write a function `([String]) async throws -> Int32` in its own file
// (see LogCommands.swift) and register it in `Subcommand.all`.
import Foundation

struct Subcommand: Sendable {
    var usage: String
    var run: @Sendable ([String]) async throws -> Int32

    static let all: [String: Subcommand] = [
        "append": .init(usage: LogCommands.appendUsage, run: LogCommands.append),
        "append-loop": .init(usage: LogCommands.appendLoopUsage, run: LogCommands.appendLoop),
        "head": .init(usage: LogCommands.headUsage, run: LogCommands.head),
        "graph-sync": .init(usage: HardeningCommands.graphSyncUsage, run: HardeningCommands.graphSync),
        "hold-write": .init(usage: FenceCommands.holdWriteUsage, run: FenceCommands.holdWrite),
        "lease-put": .init(usage: FenceCommands.leasePutUsage, run: FenceCommands.leasePut),
    ].merging(SubscribeCommands.all.mapValues { Subcommand(usage: $0.usage, run: $0.run) }) { a, _ in a }

    static var usageText: String {
        "usage: atlas-testkit <subcommand> [options]\n"
            + all.keys.sorted().map { "  \(all[$0]!.usage)" }.joined(separator: "\n")
    }
}

let argv = Array(CommandLine.arguments.dropFirst())
guard let name = argv.first, let command = Subcommand.all[name] else {
    FileHandle.standardError.write(Data((Subcommand.usageText + "\n").utf8))
    exit(argv.first.map { ["-h", "--help", "help"].contains($0) } == true ? 0 : 64)
}
do {
    exit(try await command.run(Array(argv.dropFirst())))
} catch let error as ArgumentError {
    FileHandle.standardError.write(Data("atlas-testkit \(name): \(error.message)\nusage: atlas-testkit \(command.usage)\n".utf8))
    exit(64)
} catch {
    FileHandle.standardError.write(Data("atlas-testkit \(name): \(error)\n".utf8))
    exit(1)
}
