import CanonicalJSON
import EventLog
import Foundation
import GraphSimulator
import Inventory
import Sync
import Testing

/// A simulator on 127.0.0.1:0, a real LMDB store in a temporary directory and a Graph source
/// pointed at the simulator.
final class GraphHarness: @unchecked Sendable {
    static let tenant = "contoso"
    static let settingsCatalog = PolicyTypeRegistry.type("settingsCatalogPolicy")!
    static let deviceConfiguration = PolicyTypeRegistry.type("deviceConfiguration")!
    static let compliance = PolicyTypeRegistry.type("deviceCompliancePolicy")!
    /// Fast retries for tests.
    static let fastRetry = RetryPolicy(maxAttempts: 4, initialBackoff: .milliseconds(20), maxWait: .seconds(2), budget: .seconds(10))

    let simulator: GraphSimulator
    let baseURL: String
    let directory: URL
    let store: LMDBEventStore
    let source: GraphSource
    let runner: SyncRunner
    let clientSecret: String
    private let progressLog = ProgressLog()

    /// `collections` are seeded with `items` each for tenant `contoso`.
    init(items: Int = 30, collections: [PolicyType] = [settingsCatalog, deviceConfiguration, compliance],
         configuration: GraphSimulator.Configuration = .init(), retry: RetryPolicy = fastRetry,
         options: (inout GraphSourceOptions) -> Void = { _ in }, secret: String? = nil) async throws {
        let simulated = collections.map { SimulatedCollection.intuneDefault(key: $0.key)! }
        let seed = SimulatorSeed.generate(tenants: [Self.tenant], itemsPerCollection: items, collections: simulated, seed: 11)
        simulator = GraphSimulator(seed: seed, configuration: configuration)
        baseURL = try await simulator.start()
        let tenant = seed.tenant(Self.tenant)!
        clientSecret = tenant.clientSecret
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("atlas-graph-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try LMDBEventStore.open(path: directory.path, options: .init(
            create: true, durability: .relaxed, projections: InventoryProjections.all, stateTables: SyncRunner.stateTables))
        var o = GraphSourceOptions(retry: retry, requestTimeout: .seconds(10))
        options(&o)
        source = GraphSource(credentials: try GraphCredentials(clientID: tenant.clientID, clientSecret: secret ?? tenant.clientSecret),
                             endpoints: try GraphEndpoints(graphBaseURL: baseURL, loginBaseURL: baseURL), options: o)
        runner = SyncRunner(store: store)
    }

    func close() async {
        try? await source.shutdown()
        await simulator.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs `body`, then closes the harness.
    static func with<T>(items: Int = 30, collections: [PolicyType] = [settingsCatalog, deviceConfiguration, compliance],
                        configuration: GraphSimulator.Configuration = .init(), retry: RetryPolicy = fastRetry,
                        options: (inout GraphSourceOptions) -> Void = { _ in }, secret: String? = nil,
                        _ body: (GraphHarness) async throws -> T) async throws -> T {
        let h = try await GraphHarness(items: items, collections: collections, configuration: configuration, retry: retry,
                                       options: options, secret: secret)
        do {
            let r = try await body(h)
            await h.close()
            return r
        } catch {
            await h.close()
            throw error
        }
    }

    static func selection(_ types: [PolicyType]) -> Selection { Selection(policyTypes: types.map(\.key)) }

    func sync(_ types: [PolicyType]) async throws -> SyncSummary {
        let log = progressLog
        return try await runner.run(tenant: Self.tenant, selection: Self.selection(types), source: source) { _, event in
            log.append(event)
        }
    }

    var queries: InventoryQueries { InventoryQueries(store: store) }

    func run(_ summary: SyncSummary) throws -> SyncRun {
        try #require(try queries.run(tenant: Self.tenant, runID: summary.runID))
    }

    var progress: [SourceProgress] { progressLog.events }

    /// The Graph GET requests for `path`, in order.
    func requests(_ path: String) -> [RecordedRequest] {
        simulator.requests().filter { $0.method == "GET" && $0.path == path }
    }

    var tokenRequests: [RecordedRequest] { simulator.requests().filter { $0.method == "POST" } }

    /// Every bearer token the simulator saw.
    var bearerTokens: Set<String> {
        Set(simulator.requests().compactMap { $0.authorization }.map { String($0.dropFirst("Bearer ".count)) })
    }

    /// The ids the simulator holds for `type`.
    func simulatedIDs(_ type: PolicyType) -> Set<String> {
        Set((simulator.items(tenant: Self.tenant, path: type.versionedPath) ?? []).compactMap { $0["id"]?.stringValue })
    }

    /// The bytes of every file of the store (`data.mdb`, `lock.mdb`).
    func storeFiles() throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            files[name] = try Data(contentsOf: directory.appendingPathComponent(name))
        }
        return files
    }
}

/// Collects progress events from the runner's callback.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [SourceProgress] = []
    func append(_ e: SourceProgress) { lock.lock(); list.append(e); lock.unlock() }
    var events: [SourceProgress] { lock.lock(); defer { lock.unlock() }; return list }
}

/// A sink that records what a source reports, for tests without a store.
actor RecordingSink: SourceSink {
    /// The external ids observed, by type.
    var items: [String: [String]] = [:]
    var errors: [SourceError] = []
    var finished: [(String, Bool, SourceError?)] = []
    var progressEvents: [SourceProgress] = []

    nonisolated func observationEncoder(for type: PolicyType) -> ObservationEncoder {
        ObservationEncoder(type: type, runID: "0193b9a2-7c1e-7abc-8def-0123456789ab", selectionHash: String(repeating: "a", count: 64),
                           tenant: "contoso", correlationID: nil)
    }
    /// The `data` bytes of each observation, by type.
    var payloads: [String: [[UInt8]]] = [:]

    func receive(_ page: ObservationPage, of type: PolicyType) async throws {
        items[type.key, default: []] += page.observations.map(\.externalID)
        payloads[type.key, default: []] += page.observations.map { o in o.event.withJSON { Array($0[o.event.dataRange]) } }
    }
    func record(_ error: SourceError) async { errors.append(error) }
    func finishType(_ type: PolicyType, complete: Bool, error: SourceError?) async { finished.append((type.key, complete, error)) }
    func progress(_ event: SourceProgress) async { progressEvents.append(event) }
}

extension Data {
    /// Whether the bytes hold any 8-byte piece of `secret` (so any fragment of 8 bytes or more).
    func containsFragment(of secret: String) -> Bool {
        let s = Array(secret.utf8)
        guard s.count >= 8, count >= 8 else { return false }
        var windows = Set<UInt64>()
        s.withUnsafeBytes { p in for i in 0...(s.count - 8) { windows.insert(p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) } }
        return withUnsafeBytes { p in (0...(count - 8)).contains { windows.contains(p.loadUnaligned(fromByteOffset: $0, as: UInt64.self)) } }
    }
}

/// `date` as an IMF-fixdate.
func imfFixdate(_ date: Date) -> String {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "GMT")
    f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
    return f.string(from: date)
}
