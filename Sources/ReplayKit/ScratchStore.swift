import EventLog
import Foundation
import Inventory

/// A throw-away store in a temporary directory, with the inventory projections, that events
/// are replayed into. The directory is removed when the value is released.
public final class ScratchStore: Sendable {
    public let directory: String
    public let store: LMDBEventStore

    /// The prefix of every scratch store's directory name: `atlas-replay-LABEL-PID-RANDOM`,
    /// where PID is the process that owns it (and removes it on every exit path).
    public static let namePrefix = "atlas-replay-"

    /// A new scratch directory path under `parent` (default: the system temporary directory),
    /// named for `label` and owned by the process `owner` (default: this one).
    public static func newDirectory(label: String, parent: String? = nil, owner: Int32 = getpid()) -> String {
        let base = parent ?? FileManager.default.temporaryDirectory.path
        return base + "/\(namePrefix)\(label)-\(owner)-\(EventID.generate().description.suffix(12))"
    }

    /// Creates an empty scratch store under `parent` (default: the system temporary directory),
    /// in store format `formatVersion`: a replay's copy must chain its events as its source does.
    /// `directory`, when given, is the exact path to use (a supervising process chose it).
    /// Scratch stores left in `parent` by processes that are gone are removed first.
    public init(label: String, parent: String? = nil, directory: String? = nil, projections: [any Projection] = InventoryProjections.all,
                formatVersion: Int = LMDBEventStore.newestFormat) throws {
        self.directory = directory ?? Self.newDirectory(label: label, parent: parent)
        Self.removeStale(in: (self.directory as NSString).deletingLastPathComponent)
        do {
            store = try LMDBEventStore.open(path: self.directory, options: .init(
                create: true, durability: .relaxed, projections: projections, initialMapSize: 256 << 20, formatVersion: formatVersion))
        } catch {
            try? FileManager.default.removeItem(atPath: self.directory)
            throw error
        }
    }

    /// Removes scratch stores under `parent` whose owning process no longer exists (left by a
    /// process that was killed), if this user owns them; returns the paths removed.
    @discardableResult
    public static func removeStale(in parent: String? = nil) -> [String] {
        let base = parent ?? FileManager.default.temporaryDirectory.path
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: base) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(namePrefix) {
            let parts = name.dropFirst(namePrefix.count).split(separator: "-")
            guard parts.count >= 3, let pid = Int32(parts[parts.count - 2]), pid > 0 else { continue }
            guard kill(pid, 0) != 0 && errno == ESRCH else { continue }  // its owner still runs
            let path = base + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR, st.st_uid == getuid() else { continue }
            if (try? FileManager.default.removeItem(atPath: path)) != nil { removed.append(path) }
        }
        return removed
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
        try checkPath(path)
        do {
            return try LMDBEventStore.open(path: path, options: .init(readOnly: readOnly, projections: InventoryProjections.all))
        } catch let e as EventLogError where e.code == .notAStore || e.code == .newerFormat || e.code == .permissionDenied || e.code == .truncatedLog
                    || e.code == .unsupportedSharing {
            throw ReplayUsageError(e.message, cause: e.code)
        }
    }

    /// Checks, without opening it, that `path` is a directory: a usage error (exit 2) otherwise.
    public static func checkPath(_ path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ReplayUsageError("no store at \(path)")
        }
        guard isDir.boolValue else { throw ReplayUsageError("\(path) is not a directory, so not an Atlas store") }
    }
}

/// Bad input: the commands leave with exit code 2 and write nothing.
public struct ReplayUsageError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// The store's error behind it, when opening the store failed.
    public var cause: EventLogError.Code?
    public init(_ message: String, cause: EventLogError.Code? = nil) {
        self.message = message
        self.cause = cause
    }
    public var description: String { message }
}

/// A failure while working (exit code 1).
public struct ReplayFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
