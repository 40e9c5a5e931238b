import ArgumentParser
import CanonicalJSON
import CommandSupport
import EventLog
import Foundation
import Inventory
import Sync
import Synchronization

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Sync tenants' policies for a selection into the store (from Microsoft Graph, or an offline export).",
        discussion: """
            Graph credentials come from ATLAS_CLIENT_ID / ATLAS_CLIENT_SECRET or --credentials-file, never from an argument.
            Tenants beyond --global-limit / --tenant-limit wait for their turn within this process; only runs of other
            processes on the store make a run skipped (or, with --wait, wait up to --wait-timeout, default 600 s).
            Exit code 1 when any run failed; partial and skipped runs exit 0 and say so.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var logging: LoggingOptions
    @Option(name: .customLong("tenant"), help: "A tenant to sync (any case; stored lowercased); repeat for several (synced concurrently).",
            transform: TenantArgument.canonical)
    var tenants: [String] = []
    @Option(name: .customLong("tenants-file"), help: "A file with one tenant per line (# comments allowed).")
    var tenantsFile: String?
    @Option(help: "The selection as JSON, or @FILE.") var selection: String
    @Option(name: .customLong("from-file"), help: "Read an offline NDJSON export instead of Microsoft Graph (one tenant).")
    var fromFile: String?
    @Option(name: .customLong("graph-base-url"), help: "Microsoft Graph base URL.")
    var graphBaseURL = "https://graph.microsoft.com"
    @Option(name: .customLong("login-base-url"), help: "Microsoft identity platform base URL.")
    var loginBaseURL = "https://login.microsoftonline.com"
    @Option(name: .customLong("credentials-file"), help: "JSON file with client_id and client_secret (instead of the environment).")
    var credentialsFile: String?
    @Option(name: .customLong("global-limit"), help: "Live runs allowed at once across all processes on the store.")
    var globalLimit = 16
    @Option(name: .customLong("tenant-limit"), help: "Live runs allowed at once per tenant.")
    var tenantLimit = 2
    @Flag(help: "When other processes' runs hold a concurrency slot or this tenant + selection's lock, wait instead of recording the run as skipped. (Runs of this process beyond the limits always wait for their turn.)")
    var wait = false
    @Option(name: .customLong("wait-timeout"), help: "With --wait (implied): give up waiting after this many seconds; the run is then skipped, saying why.")
    var waitTimeout: Double?
    @Option(name: .customLong("lease-seconds"), help: "How long a run's lease lasts without a heartbeat.")
    var leaseSeconds = 60
    @Flag(help: "Relaxed durability: a system crash may undo the last commit (never corrupts).")
    var relaxed = false
    @Flag(help: "Print one JSON summary per run instead of a table.") var json = false

    func validate() throws {
        guard globalLimit >= 1, tenantLimit >= 1 else { throw ValidationError("--global-limit and --tenant-limit must be at least 1") }
        if let waitTimeout, !(waitTimeout >= 0 && waitTimeout <= 86_400) {
            throw ValidationError("--wait-timeout must be 0-86400 seconds")
        }
        guard leaseSeconds >= 3 else { throw ValidationError("--lease-seconds must be at least 3") }
        if tenants.isEmpty && tenantsFile == nil { throw ValidationError("give --tenant or --tenants-file") }
    }

    func allTenants() throws -> [String] {
        var out = tenants
        if let tenantsFile {
            let data = try FileArgument.read(tenantsFile, role: "tenants file", limit: FileArgument.tenantsLimit)
            guard let text = String(validating: data, as: UTF8.self) else {
                throw CommandFailure.usage("tenants file \(tenantsFile) is not UTF-8")
            }
            for line in text.split(whereSeparator: \.isNewline) {
                let t = line.trimmingCharacters(in: .whitespaces)
                if t.isEmpty || t.hasPrefix("#") { continue }
                do { out.append(try TenantID(t).value) } catch { throw CommandFailure.usage("\(tenantsFile): \(error)") }
            }
        }
        var seen = Set<String>()
        return out.filter { seen.insert($0).inserted }
    }

    func run() async throws {
        let parsed = try SelectionArgument.parse(selection)
        SelectionArgument.reportDropped(parsed)
        let tenants = try allTenants()
        guard !tenants.isEmpty else { throw CommandFailure.usage("no tenants to sync") }
        if fromFile != nil && tenants.count > 1 { throw CommandFailure.usage("--from-file is one tenant's export; give one --tenant") }
        if let fromFile, !FileManager.default.isReadableFile(atPath: fromFile) {
            throw CommandFailure.usage("cannot read export file \(fromFile)")
        }
        // Everything is checked before the store is created or opened for write.
        let endpoints = try GraphSync.endpoints(graphBaseURL: graphBaseURL, loginBaseURL: loginBaseURL)
        let credentials = fromFile == nil ? try GraphSync.credentials(file: credentialsFile) : nil
        let s = try store.open(create: true, stateTables: SyncRunner.stateTables, durability: relaxed ? .relaxed : .durable)
        let runner = SyncRunner(store: s, options: .init(
            globalLimit: globalLimit, perTenantLimit: tenantLimit, wait: wait || waitTimeout != nil,
            maxWait: waitTimeout.map { .milliseconds(Int64($0 * 1000)) } ?? .seconds(600), leaseDuration: .seconds(leaseSeconds),
            logger: logging.logger("atlas.sync")))
        let progress = (!json && isatty(STDERR_FILENO) == 1) ? ProgressDisplay() : nil
        let summaries: [SyncSummary]
        if let fromFile {
            var source = OfflineExportSource(path: fromFile)
            source.unmarkedTypesHandler = { types in
                Output.note("warning: the export has no coverage marker for \(types.joined(separator: ", ")): their items are observed, "
                    + "but none can be reported missing (export_incomplete); an exporter writes {\"policy_type\": K, \"enumerated\": {\"count\": N}} "
                    + "after type K's last item (see docs/offline-export.md)")
            }
            summaries = [try await runner.run(tenant: tenants[0], selection: parsed.selection, source: source,
                                              progress: progress?.handler)]
        } else if let credentials {
            summaries = try await GraphSync.run(runner: runner, tenants: tenants, selection: parsed.selection,
                                                credentials: credentials, endpoints: endpoints, logger: logging.logger("atlas.graph"),
                                                progress: progress?.handler)
        } else {
            preconditionFailure("credentials are loaded whenever no export file is given")
        }
        progress?.finish()
        if json {
            // The log's head when the sync finished, to ship elsewhere as an anchor (compare it
            // with the log later: `atlas-replay export --from N --to N`).
            let head = try s.head()
            let headJSON = JSONValue.object(["position": .number(Double(head.position)), "chain": .string(head.chainHash.hex)])
            for summary in summaries {
                guard case var .object(members) = summary.json else { continue }
                members["head"] = headJSON
                Output.json(.object(members))
            }
        } else {
            Output.table(["TENANT", "RUN", "STATUS", "OBSERVED", "UPSERTED", "ERRORS", "RETRIES", "CODES"], summaries.map {
                [$0.tenant, $0.runID, $0.status.rawValue, String($0.observed), String($0.upserted), String($0.errors), String($0.retries),
                 $0.errorCodes.map(\.rawValue).joined(separator: ",")]
            })
        }
        if summaries.contains(where: { $0.status == .failed }) { throw ExitCode(1) }
    }
}

/// A one-line progress display on a terminal (stderr).
final class ProgressDisplay: Sendable {
    private struct Counts {
        var pages = 0
        var items = 0
        var retries = 0
        var types = Set<String>()
    }

    private let counts = Mutex(Counts())

    var handler: @Sendable (String, SourceProgress) -> Void {
        { [self] tenant, event in
            let line = counts.withLock { counts in
                switch event {
                case .page(let type, let n):
                    counts.pages += 1
                    counts.items += n
                    counts.types.insert(tenant + "/" + type)
                case .retry:
                    counts.retries += 1
                }
                return "\r\u{1B}[2Ktypes \(counts.types.count)  pages \(counts.pages)  items \(counts.items)  retries \(counts.retries)"
            }
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    func finish() {
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}
