// Subcommands for the hardening suite (Tools/hardening): a Graph sync with tunable timeouts,
// so misbehaving-Graph cases end in seconds instead of the production limits.
import CanonicalJSON
import EventLog
import Foundation
import Inventory
import Sync

enum HardeningCommands {
    static let graphSyncUsage =
        "graph-sync --store DIR --tenant T --selection JSON --graph-base-url URL [--request-timeout S] [--max-wait S] [--budget S] [--max-attempts N] [--max-pages N]"
        + "  → prints the run summary as JSON (credentials from ATLAS_CLIENT_ID / ATLAS_CLIENT_SECRET); exit 1 when the run failed"

    /// One Graph sync of one tenant through `SyncRunner` and `GraphSource`, as `atlas sync` does,
    /// with the source's timeouts and limits given on the command line.
    static func graphSync(_ argv: [String]) async throws -> Int32 {
        let args = try Arguments(argv, options: ["store", "tenant", "selection", "graph-base-url", "request-timeout", "max-wait",
                                                 "budget", "max-attempts", "max-pages"])
        func seconds(_ name: String, _ d: Double) throws -> Duration {
            let s = args.string(name, default: String(d))
            guard let v = Double(s), v >= 0 else { throw ArgumentError(message: "--\(name) must be a number of seconds") }
            return .milliseconds(Int64(v * 1000))
        }
        let selection = try SelectionParser.parse(try args.string("selection")).selection
        let base = try args.string("graph-base-url")
        let options = GraphSourceOptions(
            retry: RetryPolicy(maxAttempts: try args.int("max-attempts", default: 8), initialBackoff: .milliseconds(100),
                               maxWait: try seconds("max-wait", 60), budget: try seconds("budget", 300)),
            requestTimeout: try seconds("request-timeout", 100), maxPagesPerType: try args.int("max-pages", default: 100_000))
        let store = try LMDBEventStore.open(path: try args.string("store"), options: .init(
            create: true, projections: InventoryProjections.all, stateTables: SyncRunner.stateTables))
        let source = GraphSource(credentials: try GraphCredentials.fromEnvironment(),
                                 endpoints: try GraphEndpoints(graphBaseURL: base, loginBaseURL: base), options: options)
        let runner = SyncRunner(store: store)
        let summary: SyncSummary
        do {
            summary = try await runner.run(tenant: try args.string("tenant"), selection: selection, source: source)
        } catch {
            try? await source.shutdown()
            throw error
        }
        try? await source.shutdown()
        FileHandle.standardOutput.write(Data(try CanonicalJSON.serialize(summary.json) + [10]))
        return summary.status == .failed ? 1 : 0
    }
}
