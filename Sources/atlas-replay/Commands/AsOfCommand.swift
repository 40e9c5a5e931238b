import ArgumentParser
import CommandSupport
import EventLog
import Foundation
import Inventory
import ReplayKit

/// Options every `as-of` query shares.
struct AsOfOptions: ParsableArguments {
    @OptionGroup var store: StoreOptions
    @Option(help: "The state right after the event at this position (1…head).") var position: UInt64?
    @Option(help: "The state right after the highest position whose recorded_at is at or before this RFC 3339 time.")
    var time: String?
    @Option(help: "The tenant.") var tenant: String
    @Flag(help: "Print JSON (the same shapes as atlas).") var json = false
    @Option(name: .customLong("scratch-dir"), help: "Where to create the temporary replay store (default: the system temporary directory).")
    var scratchDir: String?

    func validate() throws {
        switch (position, time) {
        case (nil, nil): throw ValidationError("give --position N or --time RFC3339")
        case (.some, .some): throw ValidationError("give either --position or --time, not both")
        case (.some(let p), nil) where p == 0: throw ValidationError("--position must be at least 1")
        case (nil, .some(let t)) where parseTime(t) == nil:
            throw ValidationError("--time \"\(t)\" is not an RFC 3339 time such as 2025-01-31T12:00:00Z")
        default: break
        }
        if tenant.isEmpty { throw ValidationError("--tenant must not be empty") }
    }

    /// Opens the store, resolves the position, replays 1…N and returns a store to query.
    func replay() async throws -> (Replayer, UInt64) {
        try await replayCommand {
            let s = try store.open(readOnly: true)
            let head = try s.head().position
            try AsOf.validate(tenant: tenant, in: s)
            let n: UInt64
            if let position {
                try AsOf.validate(position: position, head: head)
                n = position
            } else {
                let t = parseTime(time!)!
                guard let p = try AsOf.position(atOrBefore: t, in: s, through: head) else {
                    throw ReplayUsageError("no event was recorded at or before \(t)")
                }
                n = p
            }
            let progress = TerminalProgress("replaying")
            defer { progress.finish() }
            let replayer = try await AsOf.replay(s, through: n, scratchParent: scratchDir, progress: { progress.update($0, $1) })
            if time != nil { Output.note("as of position \(n)") }
            return (replayer, n)
        }
    }
}

struct AsOfCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "as-of",
        abstract: "The inventory exactly as it was right after one event, computed from the log.",
        discussion: """
            Replays events 1…N into a temporary store with the inventory projections and runs the \
            same queries as atlas. --time T means N = the highest position whose recorded_at ≤ T.
            """,
        subcommands: [Items.self, Runs.self, Missing.self])

    struct Items: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The tenant's last-seen inventory as of N.")
        @OptionGroup var options: AsOfOptions
        @OptionGroup var logging: LoggingOptions
        @Option(name: .customLong("policy-type"), help: "Only this policy type (registry key).") var policyType: String?

        func validate() throws {
            if let policyType, PolicyTypeRegistry.type(policyType) == nil {
                throw ValidationError("unknown policy type \"\(policyType)\"; known: \(PolicyTypeRegistry.all.map(\.key).joined(separator: ", "))")
            }
        }

        func run() async throws {
            let (r, _) = try await options.replay()
            let items = try InventoryQueries(store: r.scratch.store).items(tenant: options.tenant, policyType: policyType)
            if options.json { Output.json(.array(items.map(\.json))) } else {
                Output.items(items)
                print("\(items.count) item(s)")
            }
        }
    }

    struct Runs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The tenant's sync runs as of N, newest first.")
        @OptionGroup var options: AsOfOptions
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            let (r, _) = try await options.replay()
            let runs = try InventoryQueries(store: r.scratch.store).runs(tenant: options.tenant)
            if options.json { Output.json(.array(runs.map(\.json))) } else { Output.runs(runs) }
        }
    }

    struct Missing: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What the latest completed run of tenant + selection (as of N) did not see.")
        @OptionGroup var options: AsOfOptions
        @OptionGroup var logging: LoggingOptions
        @Option(help: "The selection as JSON, or @FILE.") var selection: String

        func run() async throws {
            let parsed = try SelectionArgument.parse(selection)
            SelectionArgument.reportDropped(parsed)
            let (r, _) = try await options.replay()
            let report = try InventoryQueries(store: r.scratch.store).missing(tenant: options.tenant, selection: parsed.selection)
            if options.json { Output.json(report.json) } else { Output.missing(report) }
        }
    }
}
