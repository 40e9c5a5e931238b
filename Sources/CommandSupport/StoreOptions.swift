package import ArgumentParser
package import EventLog
import Foundation

/// The `--store` option every command shares.
package struct StoreOptions: ParsableArguments, Sendable {
    @Option(name: .long, help: "The store directory (default: $ATLAS_STORE or ./atlas-store).")
    package var store: String?

    package init() {}

    /// The store from the option, `ATLAS_STORE`, or `./atlas-store`: a directory, or a
    /// `postgres://` URL.
    package var path: String {
        if let store, !store.isEmpty { return store }
        if let env = ProcessInfo.processInfo.environment["ATLAS_STORE"], !env.isEmpty { return env }
        return "./atlas-store"
    }

    /// Where the store is: ``path`` as a ``StoreLocation``.
    package var location: StoreLocation { StoreLocation(path) }

    /// Opens the store with the inventory projections (``StoreLocation/open(create:readOnly:stateTables:durability:)``).
    /// Missing stores are a usage error unless `create` is set.
    package func open(create: Bool = false, readOnly: Bool = false, stateTables: [String] = [],
                     durability: Durability = .durable) throws -> any EventStore {
        try location.open(create: create, readOnly: readOnly, stateTables: stateTables, durability: durability)
    }
}
