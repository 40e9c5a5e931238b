import ArgumentParser
import Dispatch
import Foundation
import GraphSimulator

/// `graph-simulator`: serves a simulated Microsoft Graph on 127.0.0.1 until SIGINT/SIGTERM.
///
/// On start it prints exactly one line to stdout, `listening on http://127.0.0.1:PORT`.
@main
struct GraphSimulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph-simulator",
        abstract: "Simulates the parts of Microsoft Graph that Atlas syncs, for several tenants.",
        discussion: """
            Prints `listening on http://127.0.0.1:PORT` once bound and serves until SIGINT or SIGTERM.
            Control endpoints live under /_sim/ (faults, items, tokens, request log).
            """
    )

    @Option(help: "Port to bind on 127.0.0.1 (0 picks a free port).")
    var port: Int = 0

    @Option(help: "Seed file: {\"tenants\":[{\"id\",\"client_id\",\"client_secret\",\"collections\":{path:[items]}}]}.")
    var seed: String?

    @Option(help: "Generate tenants with these comma-separated ids instead of reading a seed file.")
    var generateTenants: String?

    @Option(help: "Items per collection for generated tenants.")
    var itemsPerCollection: Int = 10

    @Option(help: "Random seed for generated tenants (same value, same data and credentials).")
    var seedValue: UInt64 = 1

    @Option(help: "Write the seed in use (including credentials) to this file.")
    var dumpSeed: String?

    @Option(help: "Page size for every collection when the client sends no $top.")
    var pageSize: Int?

    @Option(help: "Lifetime of issued tokens in seconds.")
    var tokenLifetime: Double = 3599

    @Flag(help: "Answer 404 ResourceNotFound for known collections a tenant does not have (default: empty page).")
    var missingCollectionsNotFound = false

    func validate() throws {
        if seed != nil, generateTenants != nil {
            throw ValidationError("give either --seed or --generate-tenants, not both")
        }
        if let pageSize, pageSize < 1 { throw ValidationError("--page-size must be at least 1") }
        if itemsPerCollection < 0 { throw ValidationError("--items-per-collection must not be negative") }
    }

    func run() async throws {
        let simulatorSeed: SimulatorSeed
        if let seed {
            simulatorSeed = try SimulatorSeed(contentsOf: URL(fileURLWithPath: seed))
        } else {
            let tenants = (generateTenants ?? "contoso")
                .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            simulatorSeed = SimulatorSeed.generate(
                tenants: tenants, itemsPerCollection: itemsPerCollection, seed: seedValue)
        }
        if let dumpSeed {
            try simulatorSeed.jsonData().write(to: URL(fileURLWithPath: dumpSeed))
        }
        let simulator = GraphSimulator(
            seed: simulatorSeed,
            configuration: .init(
                port: port, tokenLifetime: tokenLifetime, pageSizeOverride: pageSize,
                missingCollection: missingCollectionsNotFound ? .notFound : .empty))
        let signals = SignalWaiter(signals: [SIGINT, SIGTERM])
        let base = try await simulator.start()
        print("listening on \(base)")
        fflush(nil)
        await signals.wait()
        await simulator.stop()
    }
}
