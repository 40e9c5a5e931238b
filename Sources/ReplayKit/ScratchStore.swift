import EventLog
import Foundation
import Inventory

/// A throw-away store in a temporary directory, with the inventory projections, that events
/// are replayed into. The directory is removed when the value is released.
public final class ScratchStore: @unchecked Sendable {
    public let directory: String
    public let store: LMDBEventStore

    /// Creates an empty scratch store under `parent` (default: the system temporary directory),
    /// in store format `formatVersion`: a replay's copy must chain its events as its source does.
    public init(label: String, parent: String? = nil, projections: [any Projection] = InventoryProjections.all,
                formatVersion: Int = LMDBEventStore.newestFormat) throws {
        let base = parent ?? FileManager.default.temporaryDirectory.path
        directory = base + "/atlas-replay-\(label)-\(getpid())-\(EventID.generate().description.suffix(12))"
        do {
            store = try LMDBEventStore.open(path: directory, options: .init(
                create: true, durability: .relaxed, projections: projections, initialMapSize: 256 << 20, formatVersion: formatVersion))
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Opening the store the commands work on.
public enum ReplayStore {
    /// Opens `path` read-only with the inventory projections: no command but `rebuild` writes to
    /// the store. A missing or non-store path is a usage error (exit 2).
    public static func openReadOnly(_ path: String) throws -> LMDBEventStore {
        try open(path, readOnly: true)
    }

    public static func open(_ path: String, readOnly: Bool) throws -> LMDBEventStore {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ReplayUsageError("no store at \(path)")
        }
        guard isDir.boolValue else { throw ReplayUsageError("\(path) is not a directory, so not an Atlas store") }
        do {
            return try LMDBEventStore.open(path: path, options: .init(readOnly: readOnly, projections: InventoryProjections.all))
        } catch let e as EventLogError where e.code == .notAStore || e.code == .newerFormat || e.code == .permissionDenied {
            throw ReplayUsageError(e.message)
        }
    }
}

/// Bad input: the commands leave with exit code 2 and write nothing.
public struct ReplayUsageError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A failure while working (exit code 1).
public struct ReplayFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
