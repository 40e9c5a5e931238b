import ArgumentParser
import CanonicalJSON
import CommandSupport
import EventLog
import Foundation
import ReplayKit

/// `atlas-replay copy`: copies the log of `--store` into `--to`, either backend to either.
struct CopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy the log into another store with positions, chain and bytes unchanged.",
        discussion: """
            Copies the events of --store through its head into --to (an LMDB directory or a postgres:// URL; created \
            when absent or empty), which builds its projections as they arrive. Restartable: when --to already holds \
            the beginning of the log (its head position and chain hash equal the source's event there), the copy \
            continues after it. A destination that is longer or diverges is refused (exit 1) naming the first \
            difference, and nothing is written. Consumer checkpoints and leases are not copied.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var logging: LoggingOptions
    @Option(help: "The destination store: a directory or a postgres:// URL.") var to: String
    @Option(help: "Events read and appended per batch (1…100000).") var chunk = 4096
    @Flag(help: "Print the result as JSON.") var json = false

    func validate() throws {
        guard !to.isEmpty else { throw ValidationError("--to must not be empty") }
        guard (1...100_000).contains(chunk) else { throw ValidationError("--chunk must be 1…100000") }
    }

    func run() async throws {
        let destination = StoreLocation(to)
        if case .lmdb(let a) = store.location, case .lmdb(let b) = destination, Self.samePath(a, b) {
            throw CommandFailure.usage("--to names the store being copied (\(destination))")
        }
        let outcome = try await replayCommand {
            let source = try store.open(readOnly: true)
            let target = try destination.open(create: true, formatVersion: source.formatVersion)
            let progress = TerminalProgress("copying")
            defer { progress.finish() }
            if try target.head().position > 0, !json {
                Output.note("\(destination) holds \(try target.head().position) event(s) already; checking them and continuing after them")
            }
            return try await LogCopy(chunk: chunk, progress: { progress.update($0, $1) }).run(from: source, to: target)
        }
        let head = outcome.destinationHead
        if json {
            func head(_ h: LogHead) -> JSONValue { .object(["position": .number(Double(h.position)), "chain": .string(h.chainHash.hex)]) }
            Output.json(.object([
                "copied": .number(Double(outcome.copied)), "resumed_after": .number(Double(outcome.resumedAfter)),
                "source": head(outcome.sourceHead), "destination": head(outcome.destinationHead),
            ]))
        } else {
            print("copied \(outcome.copied) events; head \(head.position) chain \(head.chainHash.hex)")
        }
    }

    /// Whether two directory paths name the same place (after resolving symbolic links).
    static func samePath(_ a: String, _ b: String) -> Bool {
        func resolved(_ p: String) -> String { URL(fileURLWithPath: p).standardizedFileURL.resolvingSymlinksInPath().path }
        return resolved(a) == resolved(b)
    }
}
