package import ArgumentParser
package import EventLog
import Foundation
import Inventory

/// The `--store` option every command shares.
package struct StoreOptions: ParsableArguments, Sendable {
    @Option(name: .long, help: "The store directory (default: $ATLAS_STORE or ./atlas-store).")
    package var store: String?

    package init() {}

    /// The store path from the option, `ATLAS_STORE`, or `./atlas-store`.
    package var path: String {
        if let store, !store.isEmpty { return store }
        if let env = ProcessInfo.processInfo.environment["ATLAS_STORE"], !env.isEmpty { return env }
        return "./atlas-store"
    }

    /// Opens the store with the inventory projections. Missing stores are a usage error unless
    /// `create` is set.
    package func open(create: Bool = false, readOnly: Bool = false, stateTables: [String] = [],
                     durability: Durability = .durable) throws -> LMDBEventStore {
        do {
            return try LMDBEventStore.open(path: path, options: .init(
                create: create, durability: durability, readOnly: readOnly, projections: InventoryProjections.all,
                stateTables: stateTables))
        } catch let e as EventLogError where e.code == .notAStore || e.code == .newerFormat || e.code == .permissionDenied || e.code == .truncatedLog
                    || e.code == .unsupportedSharing {
            throw CommandFailure.usage(e.message)
        }
    }
}
