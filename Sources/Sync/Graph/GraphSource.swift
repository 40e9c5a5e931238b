package import AsyncHTTPClient
import Foundation
package import Inventory
package import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Reads policies from Microsoft Graph with app-only (client-credentials) authentication.
///
/// Each type's collection is paged through `@odata.nextLink` to its end; up to
/// ``GraphSourceOptions/typeConcurrency`` types of a tenant are read at once. A type that
/// cannot be read to its end (throttled past the retry budget, forbidden, a bad page, a foreign
/// or repeating nextLink, …) is finished incomplete with its error, so its items are never
/// taken as deleted; the other types continue.
///
/// All requests share one `HTTPClient`. Pass your own (then you shut it down), or let the source
/// create one that refuses redirects and call ``shutdown()`` when done.
package final class GraphSource: InventorySource, Sendable {
    /// `graph`.
    package let kind = "graph"
    /// The app registration's credentials.
    package let credentials: GraphCredentials
    /// Where Graph and the token endpoint are.
    package let endpoints: GraphEndpoints
    /// Retries, limits and concurrency.
    package let options: GraphSourceOptions
    /// The client all requests to Graph go through.
    package let httpClient: HTTPClient
    /// The client of the token endpoint: one of the source's own that fails a request as soon
    /// as its connection cannot be made (refused, no such host, TLS refused), so a wrong or
    /// unreachable identity endpoint fails the run in seconds; the caller's client when one is
    /// passed (set its `retryConnectionEstablishment` to false for the same).
    let tokenClient: HTTPClient
    let ownsClient: Bool
    let secretRegistry: SecretRegistry
    /// Where retries, throttling waits and token refreshes are logged (`info`); every message
    /// built from outside text is redacted first.
    let logger: Logger
    /// The token provider of each tenant, and whether ``shutdown()`` ran.
    private let state = Mutex<(providers: [String: TokenProvider], isShutDown: Bool)>(([:], false))

    /// A source using `httpClient`, or a client of its own when `nil` (call ``shutdown()``);
    /// it logs retries, throttling waits and token refreshes to `logger` (discarded by default).
    package init(credentials: GraphCredentials, endpoints: GraphEndpoints = .production, options: GraphSourceOptions = GraphSourceOptions(),
                httpClient: HTTPClient? = nil,
                logger: Logger = Logger(label: "atlas.graph", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.credentials = credentials
        self.logger = logger
        self.endpoints = endpoints
        self.options = options
        self.secretRegistry = SecretRegistry(clientSecret: credentials.clientSecret)
        if let httpClient {
            self.httpClient = httpClient
            tokenClient = httpClient
            ownsClient = false
        } else {
            let connect = Int64(min(options.connectTimeout.inSeconds, 3600) * 1e9)
            func configuration(retryingConnections: Bool) -> HTTPClient.Configuration {
                var pool = HTTPClient.Configuration.ConnectionPool()
                pool.retryConnectionEstablishment = retryingConnections
                return HTTPClient.Configuration(
                    tlsConfiguration: nil, redirectConfiguration: .disallow, timeout: .init(connect: .nanoseconds(connect), read: nil),
                    connectionPool: pool, proxy: nil, ignoreUncleanSSLShutdown: false, decompression: .disabled)
            }
            self.httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration(retryingConnections: true))
            // Without it, a request whose connection is refused waits out its whole timeout
            // while the pool keeps reconnecting.
            tokenClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration(retryingConnections: false))
            ownsClient = true
        }
    }

    /// The client secret and every access token obtained so far.
    package var secrets: [String] { secretRegistry.all }

    /// The token provider of `tenant`, shared by all runs of this source.
    package func tokenProvider(tenant: String) -> TokenProvider {
        state.withLock { state in
            if let p = state.providers[tenant] { return p }
            let p = TokenProvider(tenant: tenant, credentials: credentials, endpoints: endpoints, client: tokenClient,
                                  retry: TokenProvider.retryPolicy(options.retry),
                                  requestTimeout: min(options.requestTimeout, TokenProvider.longestRequest), secrets: secretRegistry,
                                  logger: logger)
            state.providers[tenant] = p
            return p
        }
    }

    /// Reads `types` of `tenant`; every type is finished exactly once, complete or not.
    /// Cancelling the task stops reading at once; unread types finish incomplete (`cancelled`).
    ///
    /// A token is obtained before any type is read: when the identity platform refuses the
    /// credentials (or cannot be reached), the run records that one `auth_failed` error and
    /// finishes every type incomplete without a request to Graph. A later refusal (a token
    /// refresh) is recorded once too, and the types not yet started are not attempted.
    package func enumerate(tenant: String, types: [PolicyType], into sink: any SourceSink) async {
        let provider = tokenProvider(tenant: tenant)
        let latch = AuthFailureLatch()
        do { _ = try await provider.token() } catch {
            var e = error
            e.message = secretRegistry.redact(e.message)
            await sink.record(e)
            for type in types { await sink.finishType(type, complete: false, error: e) }
            return
        }
        let width = options.typeConcurrency
        await withTaskGroup(of: Void.self) { group in
            var pending = types.makeIterator()
            for _ in 0..<width {
                guard let type = pending.next() else { break }
                group.addTask { await self.read(type, provider: provider, sink: sink, latch: latch) }
            }
            while await group.next() != nil {
                // After cancellation the remaining types still start, and finish incomplete at once.
                if let type = pending.next() {
                    group.addTask { await self.read(type, provider: provider, sink: sink, latch: latch) }
                }
            }
        }
    }

    /// Reads one type and finishes it exactly once; after an authentication failure of the run
    /// (`latch`), finishes it incomplete without reading.
    func read(_ type: PolicyType, provider: TokenProvider, sink: any SourceSink, latch: AuthFailureLatch) async {
        if let refused = latch.error {
            return await sink.finishType(type, complete: false, error: refused)
        }
        let reader = GraphCollectionReader(type: type, endpoints: endpoints, client: httpClient, provider: provider,
                                           options: options, secrets: secretRegistry, sink: sink, logger: logger)
        guard let failure = await reader.read() else {
            await sink.finishType(type, complete: true, error: nil)
            return
        }
        var error = failure.error
        error.message = secretRegistry.redact(error.message)
        if error.code == .authFailed {
            // One error for the run, not one per type.
            error.policyType = nil
            if latch.close(with: error), failure.record { await sink.record(error) }
        } else if failure.record {
            await sink.record(error)
        }
        await sink.finishType(type, complete: false, error: error)
    }

    /// Shuts down the client the source created; does nothing for a caller's client.
    package func shutdown() async throws {
        guard ownsClient else { return }
        let first = state.withLock { state in
            defer { state.isShutDown = true }
            return !state.isShutDown
        }
        if first {
            try await tokenClient.shutdown()
            try await httpClient.shutdown()
        }
    }
}
