// atlas-bench: benchmarks that print figures. Build in release mode:
//   swift build -c release --product atlas-bench && .build/release/atlas-bench <subcommand>
import Foundation

let benchmarks: [String: (usage: String, run: ([String]) async throws -> Int32)] = [
    "subscriptions": (SubscriptionBenchmark.usage, SubscriptionBenchmark.run),
    "subscription-writer": (SubscriptionBenchmark.writerUsage, SubscriptionBenchmark.writer),
]

let argv = Array(CommandLine.arguments.dropFirst())
guard let name = argv.first, let bench = benchmarks[name] else {
    let usage = "usage: atlas-bench <subcommand> [options]\n"
        + benchmarks.keys.sorted().map { "  \(benchmarks[$0]!.usage)" }.joined(separator: "\n")
    FileHandle.standardError.write(Data((usage + "\n").utf8))
    exit(64)
}
do {
    exit(try await bench.run(Array(argv.dropFirst())))
} catch {
    FileHandle.standardError.write(Data("atlas-bench \(name): \(error)\n".utf8))
    exit(1)
}
