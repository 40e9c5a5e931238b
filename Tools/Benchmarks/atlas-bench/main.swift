// atlas-bench: benchmarks that print figures.
//
// Usage: atlas-bench <subcommand> [--option value ...]
// To add a subcommand, write a function `([String]) async throws -> Int32` in its own file
// (see LogBenchmark.swift) and register it in `Benchmark.all`.
import Foundation

struct Benchmark: Sendable {
    var usage: String
    var run: @Sendable ([String]) async throws -> Int32

    static let all: [String: Benchmark] = [
        "log": .init(usage: LogBenchmark.usage, run: LogBenchmark.run),
        "inventory": .init(usage: InventoryBenchmark.usage, run: InventoryBenchmark.run),
        "graph": .init(usage: GraphBenchmark.usage, run: GraphBenchmark.run),
        "replay": .init(usage: "replay [--events N] [--small N] [--tenants N] [--items N] [--dir DIR]",
                        run: { args in try await ReplayBenchmark.main(args); return 0 }),
        "subscriptions": .init(usage: SubscriptionBenchmark.usage, run: SubscriptionBenchmark.run),
        "subscription-writer": .init(usage: SubscriptionBenchmark.writerUsage, run: SubscriptionBenchmark.writer),
        "canonical": .init(usage: CanonicalBenchmark.usage, run: CanonicalBenchmark.run),
        "missing": .init(usage: MissingBenchmark.usage, run: MissingBenchmark.run),
        "ingest": .init(usage: IngestBenchmark.usage, run: IngestBenchmark.run),
        "postgres": .init(usage: BackendsBenchmark.usage, run: BackendsBenchmark.run),
        "shapes": .init(usage: ShapesBenchmark.usage, run: ShapesBenchmark.run),
    ]

    static var usageText: String {
        "usage: atlas-bench <subcommand> [options]\n" + all.keys.sorted().map { "  \(all[$0]!.usage)" }.joined(separator: "\n")
    }
}

/// A malformed command line.
struct UsageError: Error {
    var message: String
}

/// `--name value` options parsed by hand.
struct Options {
    private var values: [String: String] = [:]

    init(_ arguments: [String], allowed: Set<String>) throws {
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            guard a.hasPrefix("--"), allowed.contains(String(a.dropFirst(2))) else { throw UsageError(message: "unknown option \(a)") }
            guard i + 1 < arguments.count else { throw UsageError(message: "\(a) needs a value") }
            values[String(a.dropFirst(2))] = arguments[i + 1]
            i += 2
        }
    }

    func string(_ name: String) -> String? { values[name] }

    func int(_ name: String, default d: Int) throws -> Int {
        guard let v = values[name] else { return d }
        guard let n = Int(v.replacingOccurrences(of: "_", with: "")), n > 0 else {
            throw UsageError(message: "--\(name) must be a positive integer, not \(v)")
        }
        return n
    }

    /// `--name 0|1`.
    func flag(_ name: String, default d: Bool) throws -> Bool {
        switch values[name] {
        case nil: return d
        case "0": return false
        case "1": return true
        case let v?: throw UsageError(message: "--\(name) must be 0 or 1, not \(v)")
        }
    }
}

let argv = Array(CommandLine.arguments.dropFirst())
guard let name = argv.first, let bench = Benchmark.all[name] else {
    FileHandle.standardError.write(Data((Benchmark.usageText + "\n").utf8))
    exit(argv.first.map { ["-h", "--help", "help"].contains($0) } == true ? 0 : 64)
}
do {
    exit(try await bench.run(Array(argv.dropFirst())))
} catch let e as UsageError {
    FileHandle.standardError.write(Data("atlas-bench \(name): \(e.message)\nusage: atlas-bench \(bench.usage)\n".utf8))
    exit(64)
} catch {
    FileHandle.standardError.write(Data("atlas-bench \(name): \(error)\n".utf8))
    exit(1)
}
