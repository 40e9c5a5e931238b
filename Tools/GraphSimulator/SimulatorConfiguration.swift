package import Foundation

/// Settings of a ``GraphSimulator``.
package struct SimulatorConfiguration: Sendable {
    /// What a tenant's request for a known collection it does not have returns.
    package enum MissingCollection: Sendable, Hashable {
        /// 200 with an empty `value`.
        case empty
        /// 404 with a Graph `ResourceNotFound` error.
        case notFound
    }

    /// Address to bind; the simulator is meant for loopback only.
    package var host: String
    /// Port to bind; 0 picks an ephemeral port.
    package var port: Int
    /// Lifetime of issued tokens in seconds (also reported as `expires_in`).
    package var tokenLifetime: TimeInterval
    /// Page size for every collection when the client gives no `$top`; `nil` uses each
    /// collection's default.
    package var pageSizeOverride: Int?
    /// Page sizes per full collection path, taking precedence over everything but `$top`.
    package var pageSizes: [String: Int]
    /// Page size for collections not described by ``knownCollections``.
    package var fallbackPageSize: Int
    /// The largest `$top` honoured.
    package var maxTop: Int
    /// Collections that exist for every tenant (served empty when the tenant has no items).
    package var knownCollections: [SimulatedCollection]
    /// What a known collection the tenant does not have returns.
    package var missingCollection: MissingCollection

    /// Creates a configuration.
    package init(
        host: String = "127.0.0.1",
        port: Int = 0,
        tokenLifetime: TimeInterval = 3599,
        pageSizeOverride: Int? = nil,
        pageSizes: [String: Int] = [:],
        fallbackPageSize: Int = 100,
        maxTop: Int = 999,
        knownCollections: [SimulatedCollection] = SimulatedCollection.intuneDefaults,
        missingCollection: MissingCollection = .empty
    ) {
        self.host = host
        self.port = port
        self.tokenLifetime = tokenLifetime
        self.pageSizeOverride = pageSizeOverride
        self.pageSizes = pageSizes
        self.fallbackPageSize = fallbackPageSize
        self.maxTop = maxTop
        self.knownCollections = knownCollections
        self.missingCollection = missingCollection
    }
}
