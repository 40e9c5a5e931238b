package import EventLog
import Foundation
import Inventory

/// A throw-away store in a temporary directory, with the inventory projections, that events
/// are replayed into. The directory is removed when the value is released.
package final class ScratchStore: Sendable {
    package let directory: String
    package let store: LMDBEventStore

    /// The prefix of every scratch store's directory name: `atlas-replay-LABEL-OWNER-RANDOM`,
    /// where OWNER identifies the process that owns it (and removes it on every exit path) as
    /// `PID.STARTTIME.PIDNS.BOOTID`: its PID, start time, PID namespace and boot id (hex digits).
    package static let namePrefix = "atlas-replay-"

    /// A new scratch directory path under `parent` (default: the system temporary directory),
    /// named for `label` and owned by the process `owner` (default: this one).
    package static func newDirectory(label: String, parent: String? = nil, owner: ProcessIdentity = .current) -> String {
        let base = parent ?? FileManager.default.temporaryDirectory.path
        return base + "/\(namePrefix)\(label)-\(ownerToken(owner))-\(EventID.generate().description.suffix(12))"
    }

    /// The OWNER part of a scratch directory's name.
    static func ownerToken(_ id: ProcessIdentity) -> String {
        "\(id.pid).\(id.startTime).\(id.pidNamespace).\(bootHex(id.bootID))"
    }

    private static func bootHex(_ bootID: String) -> String { String(bootID.filter(\.isHexDigit).lowercased()) }

    /// The owner a scratch directory's name records, as ``ProcessIdentity`` judges it; `nil` for
    /// a name that does not identify it fully (such as a bare PID), which is never judged dead.
    static func owner(ofName name: String) -> ProcessIdentity? {
        guard name.hasPrefix(namePrefix) else { return nil }
        let parts = name.dropFirst(namePrefix.count).split(separator: "-")
        guard parts.count >= 3 else { return nil }
        let f = parts[parts.count - 2].split(separator: ".", omittingEmptySubsequences: false)
        guard f.count == 4, let pid = Int32(f[0]), pid > 0, let start = UInt64(f[1]), let ns = UInt64(f[2]),
              !f[3].isEmpty, f[3].allSatisfy(\.isHexDigit) else { return nil }
        // The boot id is recorded without its dashes: this boot's own is used when they match.
        let me = ProcessIdentity.current
        let boot = String(f[3]) == bootHex(me.bootID) ? me.bootID : String(f[3])
        return ProcessIdentity(bootID: boot, pidNamespace: ns, pid: pid, startTime: start)
    }

    /// Creates an empty scratch store under `parent` (default: the system temporary directory),
    /// in store format `formatVersion`: a replay's copy must chain its events as its source does.
    /// `directory`, when given, is the exact path to use (a supervising process chose it).
    /// Scratch stores left in `parent` by processes that are gone are removed first.
    package init(label: String, parent: String? = nil, directory: String? = nil, projections: [any Projection] = InventoryProjections.all,
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

    /// Removes scratch stores under `parent` whose owning process is known to be gone (left by a
    /// process that was killed), if this user owns them; returns the paths removed. An owner
    /// in another PID namespace or boot (another container sharing the directory), or one a
    /// name does not identify fully, cannot be judged from here: its store is left alone.
    @discardableResult
    package static func removeStale(in parent: String? = nil) -> [String] {
        let base = parent ?? FileManager.default.temporaryDirectory.path
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: base) else { return [] }
        var removed: [String] = []
        for name in names {
            guard let owner = owner(ofName: name), owner.liveness() == .dead else { continue }
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
package enum ReplayStore {
    /// Opens `path` read-only with the inventory projections: no command but `rebuild` writes to
    /// the store. A missing or non-store path is a usage error (exit 2).
    package static func openReadOnly(_ path: String) throws -> LMDBEventStore {
        try open(path, readOnly: true)
    }

    package static func open(_ path: String, readOnly: Bool) throws -> LMDBEventStore {
        try checkPath(path)
        do {
            return try LMDBEventStore.open(path: path, options: .init(readOnly: readOnly, projections: InventoryProjections.all))
        } catch let e as EventLogError where e.code == .notAStore || e.code == .newerFormat || e.code == .permissionDenied || e.code == .truncatedLog
                    || e.code == .unsupportedSharing {
            throw ReplayUsageError(e.message, cause: e.code)
        }
    }

    /// Checks, without opening it, that `path` is a directory: a usage error (exit 2) otherwise.
    package static func checkPath(_ path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ReplayUsageError("no store at \(path)")
        }
        guard isDir.boolValue else { throw ReplayUsageError("\(path) is not a directory, so not an Atlas store") }
    }
}

/// Bad input: the commands leave with exit code 2 and write nothing.
package struct ReplayUsageError: Error, Sendable, CustomStringConvertible {
    package var message: String
    /// The store's error behind it, when opening the store failed.
    package var cause: EventLogError.Code?
    package init(_ message: String, cause: EventLogError.Code? = nil) {
        self.message = message
        self.cause = cause
    }
    package var description: String { message }
}

/// A failure while working (exit code 1).
package struct ReplayFailure: Error, Sendable, CustomStringConvertible {
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}
