package import EventLog
import EventLogPostgres
import Inventory

extension StoreLocation {
    /// Opens the store with the inventory projections: the one place every command of `atlas`
    /// and `atlas-replay` opens its store, whichever backend holds it. A missing store (unless
    /// `create`), a path that is not a store, a store of a newer format or one this user may
    /// not open is a usage error (exit 2); nothing is created or changed then. A store created
    /// here is in `formatVersion` (default: the newest); an existing store keeps its own.
    package func open(create: Bool = false, readOnly: Bool = false, stateTables: [String] = [],
                      durability: Durability = .durable, formatVersion: Int? = nil) throws -> any EventStore {
        switch self {
        case .lmdb(let path):
            do {
                return try LMDBEventStore.open(path: path, options: .init(
                    create: create, durability: durability, readOnly: readOnly, projections: InventoryProjections.all,
                    stateTables: stateTables, formatVersion: formatVersion ?? LMDBEventStore.newestFormat))
            } catch let e as EventLogError where e.code == .notAStore || e.code == .newerFormat || e.code == .permissionDenied
                        || e.code == .truncatedLog || e.code == .unsupportedSharing {
                throw CommandFailure.usage(e.message)
            }
        case .postgres(let url):
            do {
                return try PostgresEventStore.open(url: url, options: .init(
                    create: create, durability: durability, readOnly: readOnly, projections: InventoryProjections.all,
                    stateTables: stateTables, formatVersion: formatVersion ?? LMDBEventStore.newestFormat))
            } catch let e as EventLogError where e.code == .notAStore || e.code == .newerFormat || e.code == .permissionDenied
                        || e.code == .truncatedLog || e.code == .invalidOptions || e.code == .storage {
                // A URL naming no reachable Atlas store is a bad --store value.
                throw CommandFailure.usage(e.message)
            }
        }
    }
}
