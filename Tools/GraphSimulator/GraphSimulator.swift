package import CanonicalJSON
package import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// A Microsoft Graph simulator: an HTTP server on loopback that issues client-credential
/// tokens and serves paged Intune / Entra collections for several tenants, with injectable
/// faults, runtime mutations and a request log.
///
/// ```swift
/// let sim = GraphSimulator(seed: .generate(tenants: ["contoso"], itemsPerCollection: 30))
/// let base = try await sim.start()   // "http://127.0.0.1:54321"
/// sim.addFault(tenant: "contoso", path: "/beta/deviceManagement/configurationPolicies",
///              .init(.status(429, retryAfter: "1.5"), times: 2, page: 2))
/// // … drive the client against `base` …
/// await sim.stop()
/// ```
///
/// Endpoints:
/// - `POST /{tenant}/oauth2/v2.0/token` (client credentials form) → bearer token of that tenant.
/// - `GET /{beta|v1.0}/{collection}` with `Authorization: Bearer …` → `{"@odata.context","value",
///   "@odata.nextLink"?}`; `$top` (max 999) or the collection's default page size; the nextLink
///   is absolute on ``baseURL`` with an opaque `$skiptoken`. Also `…/{id}` and `…/{id}/assignments`.
/// - Control endpoints under `/_sim/` (JSON): `health`, `tenants`, `items`, `faults`,
///   `revoke-tokens`, `token-lifetime`, `requests`; see ``SimulatedFault`` for the fault format.
///   Control requests are not written to the request log.
package final class GraphSimulator: Sendable {
    /// The simulator's settings.
    package typealias Configuration = SimulatorConfiguration

    /// The settings given at creation.
    package let configuration: Configuration
    let state: Mutex<SimulatorState>
    private let server: Mutex<ServerState>

    private struct ServerState: Sendable {
        var task: Task<Void, Never>?
        var group: ServiceGroup?
        var port: Int?
    }

    /// Creates a simulator; call ``start()`` to serve.
    package init(seed: SimulatorSeed, configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.state = Mutex(SimulatorState(seed: seed, tokenLifetime: configuration.tokenLifetime))
        self.server = Mutex(ServerState())
    }

    // MARK: Lifecycle

    /// The bound port once running.
    package var port: Int? { server.withLock { $0.port } }

    /// The base URL once running, e.g. `http://127.0.0.1:54321` (no trailing slash).
    package var baseURL: String? { port.map { "http://\(configuration.host):\($0)" } }

    /// Binds and starts serving in a background task; returns the base URL once bound.
    @discardableResult
    package func start() async throws -> String {
        let alreadyRunning = server.withLock { $0.task != nil }
        if alreadyRunning { throw SimulatorError.invalidState("already started") }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let failure = Mutex<String?>(nil)
        var logger = Logger(label: "graph-simulator")
        logger.logLevel = ProcessInfo.processInfo.environment["GRAPH_SIMULATOR_LOG_LEVEL"]
            .flatMap(Logger.Level.init(rawValue:)) ?? .critical
        let responder = CallbackResponder<SimulatorRequestContext> { [self] request, context in
            await self.respond(to: request, context: context)
        }
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? -1)
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let task = Task {
            do {
                try await group.run()
            } catch {
                failure.withLock { $0 = "\(error)" }
            }
            continuation.finish()
        }
        server.withLock { $0.task = task; $0.group = group }
        for await port in ports {
            guard port > 0 else { break }
            server.withLock { $0.port = port }
            return "http://\(configuration.host):\(port)"
        }
        server.withLock { $0 = ServerState() }
        throw SimulatorError.startFailed(failure.withLock { $0 } ?? "server stopped before it was running")
    }

    /// Stops serving and waits until the server has shut down. State is kept.
    ///
    /// Shuts down gracefully (idle connections close at once); requests still running after
    /// `timeout` seconds (a `slow` fault, say) are cancelled.
    package func stop(timeout: Double = 2) async {
        let (task, group) = server.withLock { s -> (Task<Void, Never>?, ServiceGroup?) in
            defer { s = ServerState() }
            return (s.task, s.group)
        }
        guard let task else { return }
        await group?.triggerGracefulShutdown()
        let watchdog = Task {
            try? await Task.sleep(for: .seconds(timeout))
            if !Task.isCancelled { task.cancel() }
        }
        await task.value
        watchdog.cancel()
    }

    // MARK: Tenants and items

    /// All tenants, in seed order, with their current items.
    package func tenants() -> [SimulatedTenant] {
        state.withLock { s in s.tenantOrder.compactMap { s.tenants[$0] } }
    }

    /// The tenant with id `id`.
    package func tenant(_ id: String) -> SimulatedTenant? {
        state.withLock { $0.tenants[id] }
    }

    /// Adds a tenant, or replaces the one with the same id.
    package func addTenant(_ tenant: SimulatedTenant) {
        state.withLock { $0.upsertTenant(tenant) }
    }

    /// The items of one tenant's collection (`path` like `/beta/deviceManagement/intents`),
    /// or `nil` when the tenant does not have it.
    package func items(tenant: String, path: String) -> [JSONValue]? {
        state.withLock { $0.tenants[tenant]?.collections[GraphPath.normalize(path)] }
    }

    /// Replaces all items of one tenant's collection; `false` when the tenant is unknown.
    @discardableResult
    package func setItems(tenant: String, path: String, items: [JSONValue]) -> Bool {
        state.withLock { s in
            guard s.tenants[tenant] != nil else { return false }
            s.tenants[tenant]!.collections[GraphPath.normalize(path)] = items
            return true
        }
    }

    /// Replaces the item with the same `id`, or appends it; `false` when the tenant is unknown.
    @discardableResult
    package func upsertItem(tenant: String, path: String, item: JSONValue) -> Bool {
        state.withLock { s in
            guard s.tenants[tenant] != nil else { return false }
            let p = GraphPath.normalize(path)
            var list = s.tenants[tenant]!.collections[p] ?? []
            if let id = item["id"]?.stringValue, let i = list.firstIndex(where: { $0["id"]?.stringValue == id }) {
                list[i] = item
            } else {
                list.append(item)
            }
            s.tenants[tenant]!.collections[p] = list
            return true
        }
    }

    /// Removes the item with `id`; `true` when one was removed.
    @discardableResult
    package func removeItem(tenant: String, path: String, id: String) -> Bool {
        state.withLock { s in
            let p = GraphPath.normalize(path)
            guard var list = s.tenants[tenant]?.collections[p],
                  let i = list.firstIndex(where: { $0["id"]?.stringValue == id }) else { return false }
            list.remove(at: i)
            s.tenants[tenant]!.collections[p] = list
            return true
        }
    }

    /// Removes a whole collection from a tenant, so it is served as missing.
    @discardableResult
    package func removeCollection(tenant: String, path: String) -> Bool {
        state.withLock { s in
            guard s.tenants[tenant] != nil else { return false }
            return s.tenants[tenant]!.collections.removeValue(forKey: GraphPath.normalize(path)) != nil
        }
    }

    // MARK: Faults

    /// Arms a fault for one tenant (or `*` for all) and full collection path (or
    /// `/oauth2/v2.0/token` for the token endpoint); returns its id.
    @discardableResult
    package func addFault(tenant: String, path: String, _ fault: SimulatedFault) -> Int {
        state.withLock { $0.addFault(tenant: tenant, path: path, fault: fault) }
    }

    /// Removes armed faults matching the given filters (all when none); returns how many.
    @discardableResult
    package func clearFaults(tenant: String? = nil, path: String? = nil, id: Int? = nil) -> Int {
        state.withLock { $0.clearFaults(tenant: tenant, path: path, id: id) }
    }

    /// The faults still armed, with their remaining counts.
    package func faults() -> [InjectedFault] {
        state.withLock { $0.faults }
    }

    // MARK: Tokens

    /// Invalidates issued tokens (of one tenant, or all); returns how many.
    @discardableResult
    package func revokeTokens(tenant: String? = nil) -> Int {
        state.withLock { $0.revokeTokens(tenant: tenant) }
    }

    /// Sets the lifetime of tokens issued from now on.
    package func setTokenLifetime(_ seconds: TimeInterval) {
        state.withLock { $0.tokenLifetime = seconds }
    }

    /// Issues a token for `tenant` without going through the token endpoint.
    package func issueToken(tenant: String) -> String? {
        state.withLock { s in
            guard s.tenants[tenant] != nil else { return nil }
            return s.issueToken(tenant: tenant, now: Date())
        }
    }

    // MARK: Request log

    /// Every Graph and token request answered so far, oldest first (control requests under
    /// `/_sim/` are not logged).
    package func requests() -> [RecordedRequest] {
        state.withLock { $0.log }
    }

    /// Empties the request log.
    package func clearRequests() {
        state.withLock { $0.log.removeAll() }
    }
}
