package import EventLog
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
import Inventory
package import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `atlas serve`: a read-only HTTP server over a store — the JSON API under `/api/v1`, the
/// event stream as Server-Sent Events (`/api/v1/events`) and the web console (`/console`).
///
/// It never writes to the store: every answer comes from ``InventoryQueries`` and the log's
/// short read transactions. Every request but `/api/v1/health` needs a bearer token (or a
/// console session opened with one); see docs/server.md.
package final class AtlasServer: Sendable {
    package let configuration: ServerConfiguration
    let store: any EventStore
    let queries: InventoryQueries
    let verifier: TokenVerifier
    let sessions: SessionStore
    /// Full chunks of the unfiltered stream, shared by its followers.
    let streamChunks = StreamChunkCache()
    /// The head as the streams last read it, shared by them.
    let streamHead = StreamHead()
    let logger: Logger
    /// Where requests and streams run when the store's reads wait for a database server
    /// (``StoreReadExecutor``); `nil`: Swift's cooperative pool.
    package let readExecutor: (any TaskExecutor)?
    /// Set once shutdown begins: event streams end at their next poll.
    let closing = Atomic<Bool>(false)
    private let server = Mutex<ServerState>(ServerState())

    private struct ServerState: Sendable {
        var task: Task<Void, Never>?
        var group: ServiceGroup?
        var port: Int?
    }

    package init(store: any EventStore, configuration: ServerConfiguration, logger: Logger = Logger(label: "atlas.serve")) {
        self.store = store
        self.configuration = configuration
        self.queries = InventoryQueries(store: store)
        self.verifier = TokenVerifier(queries: queries)
        self.sessions = SessionStore(lifetime: configuration.sessionLifetime)
        self.logger = logger
        self.readExecutor = store.readsWaitForServer ? StoreReadExecutor.shared : nil
    }

    /// The bound port once running.
    package var port: Int? { server.withLock { $0.port } }

    /// The base URL, e.g. `http://127.0.0.1:8080`.
    package func baseURL(port: Int) -> String {
        let host = configuration.host.contains(":") && !configuration.host.hasPrefix("[") ? "[\(configuration.host)]" : configuration.host
        return "\(configuration.tls == nil ? "http" : "https")://\(host):\(port)"
    }

    /// Serves until SIGTERM or SIGINT (then shuts down gracefully and returns). `onListening`
    /// receives the base URL once bound.
    package func run(onListening: @escaping @Sendable (String) -> Void) async throws {
        let group = try makeGroup(signals: [.sigterm, .sigint]) { port in onListening(self.baseURL(port: port)) }
        try await group.run()
    }

    /// Binds and serves in a background task; returns the base URL once bound (for tests and
    /// benchmarks). ``stop()`` ends it.
    @discardableResult
    package func start() async throws -> String {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let failure = Mutex<String?>(nil)
        let group = try makeGroup(signals: []) { port in continuation.yield(port) }
        let task = Task {
            do { try await group.run() } catch { failure.withLock { $0 = "\(error)" } }
            continuation.finish()
        }
        server.withLock { $0.task = task; $0.group = group }
        for await port in ports where port > 0 {
            server.withLock { $0.port = port }
            return baseURL(port: port)
        }
        server.withLock { $0 = ServerState() }
        throw APIProblem(.unavailable, failure.withLock { $0 } ?? "the server stopped before it was running")
    }

    /// Stops a server ``start()`` started, waiting until it has shut down.
    package func stop() async {
        let (task, group) = server.withLock { s -> (Task<Void, Never>?, ServiceGroup?) in
            defer { s = ServerState() }
            return (s.task, s.group)
        }
        closing.store(true, ordering: .relaxed)
        await group?.triggerGracefulShutdown()
        await task?.value
    }

    private func makeGroup(signals: [UnixSignal], onPort: @escaping @Sendable (Int) -> Void) throws -> ServiceGroup {
        let responder = CallbackResponder<ServerRequestContext> { [self] request, _ in
            await self.respond(to: request)
        }
        let builder: HTTPServerBuilder
        if let tls = configuration.tls {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificate).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: tls.privateKey, format: .pem)
            builder = try .tls(.http1(), tlsConfiguration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
        } else {
            builder = .http1()
        }
        var quiet = logger
        if logger.logLevel > .debug { quiet.logLevel = .warning }  // Hummingbird's own lines: warnings and worse
        let app = Application(
            responder: responder, server: builder,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "atlas"),
            onServerRunning: { channel in onPort(channel.localAddress?.port ?? -1) },
            logger: quiet)
        let closer = StreamCloser(closing: self)
        // Services shut down in reverse order: the closer first (ending the event streams),
        // then the application (which waits for requests in flight).
        return ServiceGroup(configuration: .init(services: [app, closer], gracefulShutdownSignals: signals, logger: quiet))
    }

    /// Ends event streams when graceful shutdown begins.
    private struct StreamCloser: Service {
        let closing: AtlasServer
        func run() async throws {
            try? await gracefulShutdown()
            closing.closing.store(true, ordering: .relaxed)
        }
    }
}
