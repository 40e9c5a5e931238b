import Foundation

// Benchmarks that print figures. Build in release mode:
//   swift build -c release --product atlas-bench && .build/release/atlas-bench <name> [options]
let benchmarks: [String: (String, ([String]) async throws -> Void)] = [
    "inventory": ("offline sync of a large export, re-sync, and missing latency", InventoryBenchmark.run),
]

let args = Array(CommandLine.arguments.dropFirst())
guard let name = args.first, let (_, run) = benchmarks[name] else {
    print("usage: atlas-bench <benchmark> [options]\n")
    for (name, (about, _)) in benchmarks.sorted(by: { $0.key < $1.key }) { print("  \(name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(about)") }
    exit(2)
}
do {
    try await run(Array(args.dropFirst()))
} catch {
    FileHandle.standardError.write(Data("atlas-bench \(name): \(error)\n".utf8))
    exit(1)
}
