import CanonicalJSON
import EventLog
import Foundation
import Inventory
import Sync
import Testing

/// A store shared in ways LMDB's lock file cannot coordinate: `lock.mdb` removed or replaced
/// under a live writer, processes in different PID namespaces (containers sharing a volume),
/// and run leases of processes whose PID means nothing here. Real child processes throughout
/// (`atlas-testkit`, `atlas`, `atlas-replay`), some in their own PID namespace (`unshare`).
@Suite(.serialized) struct StoreSharingTests {
    static var toolsDirectory: URL { URL(fileURLWithPath: CrossProcessRunTests.atlasBinary).deletingLastPathComponent() }
    static var testkit: String { toolsDirectory.appendingPathComponent("atlas-testkit").path }

    /// A child process whose outputs go to files (read at any time) and whose input is a pipe.
    final class Child: @unchecked Sendable {
        let process = Process()
        let input = Pipe()
        let outPath: String
        let errPath: String

        init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
            let base = NSTemporaryDirectory() + "atlas-sharing-\(UUID().uuidString)"
            outPath = base + ".out"
            errPath = base + ".err"
            FileManager.default.createFile(atPath: outPath, contents: nil)
            FileManager.default.createFile(atPath: errPath, contents: nil)
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            if let environment { process.environment = environment }
            process.standardInput = input
            process.standardOutput = FileHandle(forWritingAtPath: outPath)
            process.standardError = FileHandle(forWritingAtPath: errPath)
            try process.run()
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }

        var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
        var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
        var lines: [String] { stdout.split(separator: "\n").map(String.init) }

        /// Waits until stdout holds `count` lines starting with `prefix`; `false` on timeout.
        func waitFor(_ prefix: String, count: Int = 1, seconds: Double = 30) async throws -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if lines.filter({ $0.hasPrefix(prefix) }).count >= count { return true }
                try await Task.sleep(for: .milliseconds(20))
            }
            return false
        }

        /// Waits for the process to exit; `false` (the process killed) when it is still running
        /// after `seconds`.
        func waitForExit(seconds: Double) async throws -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return false
            }
            process.waitUntilExit()
            return true
        }

        /// Closes the child's input (ends `hold-write`'s transaction, `lease-put`'s wait).
        func closeInput() { try? input.fileHandleForWriting.close() }
    }

    static func tempStore() throws -> String {
        let dir = NSTemporaryDirectory() + "atlas-sharing-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir + "/store"
    }

    static func verify(_ store: String) async throws -> AtlasProcess.Ran {
        try await AtlasProcess.run(["verify", "--store", store], binary: AtlasProcess.replayBinary)
    }

    /// Events of each tenant and the head, read by this process.
    static func contents(_ store: String) throws -> (head: UInt64, perTenant: [String: Int]) {
        let s = try LMDBEventStore.open(path: store, options: .init(readOnly: true, projections: InventoryProjections.all,
                                                                     stateTables: SyncRunner.stateTables))
        var perTenant: [String: Int] = [:]
        for t in try s.tenants() { perTenant[t] = try s.tenantPositions(t, after: 0, limit: .max).count }
        return (try s.head().position, perTenant)
    }

    /// Whether this process may create PID namespaces (`unshare --pid` needs root).
    static var canUnshare: Bool {
        geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")
    }

    /// `unshare` arguments running `executable` as PID 1 of a new PID namespace.
    static func inNewPIDNamespace(_ executable: String, _ arguments: [String]) -> [String] {
        ["--pid", "--fork", "--mount-proc", executable] + arguments
    }

    /// The arguments and environment of `atlas sync` of contoso against the simulator of `env`.
    static func syncCommand(_ env: CrossProcessRunTests.Env) -> (args: [String], environment: [String: String]) {
        (["sync", "--tenant", "contoso", "--selection", CrossProcessRunTests.selection, "--json",
          "--store", env.store, "--graph-base-url", env.base, "--login-base-url", env.base],
         AtlasProcess.environment(["ATLAS_CLIENT_ID": "atlas-test", "ATLAS_CLIENT_SECRET": CrossProcessRunTests.secret]))
    }

    /// Runs `atlas sync` to its end, waiting off the cooperative pool the in-process simulator needs.
    static func sync(_ env: CrossProcessRunTests.Env) async throws -> AtlasProcess.Ran {
        let (args, environment) = syncCommand(env)
        return try await AtlasProcess.run(args, environment: environment)
    }

    // MARK: lock.mdb replaced

    @Test func lockFileReplacedUnderALiveWriterStopsItAndNothingAcknowledgedIsLost() async throws {
        let store = try Self.tempStore()
        let created = try await AtlasProcess.run(["append", "--store", store, "--tenant", "seed", "--batches", "1",
                                                  "--batch-size", "1", "--create", "--inventory"], binary: Self.testkit)
        #expect(created.status == 0, "\(created.stderr)")
        let writer = try Child(Self.testkit, ["append-loop", "--store", store, "--tenant", "loop", "--batch-size", "5", "--inventory"])
        #expect(try await writer.waitFor("committed ", count: 20), "the writer did not commit: \(writer.stderr)")
        // Replace the lock file under the live writer: remove it and put a fresh file in its place.
        #expect(unlink(store + "/lock.mdb") == 0)
        #expect(FileManager.default.createFile(atPath: store + "/lock.mdb", contents: nil, attributes: [.posixPermissions: 0o600]))
        let stopped = try await writer.waitForExit(seconds: 15)
        #expect(stopped, "the writer went on writing after its lock file was replaced")
        #expect(writer.process.terminationStatus == 1)
        #expect(writer.stderr.contains("lock.mdb was") && writer.stderr.contains("stops writing"), "\(writer.stderr)")
        let acknowledged = writer.lines.compactMap { $0.hasPrefix("committed ") ? UInt64($0.dropFirst(10)) : nil }.last ?? 0
        #expect(acknowledged > 1)

        // A second writer, using the fresh lock file, cannot lose or damage what was acknowledged.
        let second = try await AtlasProcess.run(["append", "--store", store, "--tenant", "second", "--batches", "20",
                                                 "--batch-size", "5", "--inventory"], binary: Self.testkit)
        #expect(second.status == 0, "\(second.stderr)")
        let (head, perTenant) = try Self.contents(store)
        #expect(head == acknowledged + 100)
        #expect(perTenant == ["seed": 1, "loop": Int(acknowledged) - 1, "second": 100])
        let verified = try await Self.verify(store)
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
    }

    @Test func aSecondWriterWithAFreshLockFileIsKeptOutOfTheFirstsTransaction() async throws {
        let store = try Self.tempStore()
        let created = try await AtlasProcess.run(["append", "--store", store, "--tenant", "seed", "--batches", "1",
                                                  "--batch-size", "1", "--create", "--inventory"], binary: Self.testkit)
        #expect(created.status == 0, "\(created.stderr)")
        // The first writer sits inside its write transaction.
        let first = try Child(Self.testkit, ["hold-write", "--store", store, "--tenant", "first"])
        #expect(try await first.waitFor("holding"), "\(first.stderr)")
        // With lock.mdb gone, the second writer gets a fresh lock file and LMDB's writer lock
        // no longer keeps it out; the byte-range lock on data.mdb must.
        #expect(unlink(store + "/lock.mdb") == 0)
        let second = try Child(Self.testkit, ["append", "--store", store, "--tenant", "second", "--batches", "3",
                                              "--batch-size", "5", "--inventory"])
        try await Task.sleep(for: .seconds(2))
        #expect(second.process.isRunning, "the second writer wrote while the first held its transaction: \(second.stdout) \(second.stderr)")
        #expect(!second.stdout.hasPrefix("ok"))
        // The first commits: acknowledged.
        first.closeInput()
        #expect(try await first.waitForExit(seconds: 30))
        #expect(first.process.terminationStatus == 0, "\(first.stderr)")
        #expect(first.lines.last == "committed 2")
        // The second then finds a commit its lock table never saw, and refuses to write over it.
        #expect(try await second.waitForExit(seconds: 30))
        #expect(second.process.terminationStatus == 1)
        #expect(second.stderr.contains("through a different lock.mdb") && second.stderr.contains("unsupported_sharing"), "\(second.stderr)")
        let (head, perTenant) = try Self.contents(store)
        #expect(head == 2)
        #expect(perTenant == ["seed": 1, "first": 1])
        let verified = try await Self.verify(store)
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
    }

    // MARK: PID namespaces

    @Test func aStoreHeldInAnotherPIDNamespaceIsRefusedNamingTheProblem() async throws {
        guard Self.canUnshare else {
            print("skipped: creating a PID namespace needs root and /usr/bin/unshare")
            return
        }
        let store = try Self.tempStore()
        let created = try await AtlasProcess.run(["append", "--store", store, "--tenant", "seed", "--batches", "2",
                                                  "--batch-size", "3", "--create", "--inventory"], binary: Self.testkit)
        #expect(created.status == 0, "\(created.stderr)")
        let holder = try Child(Self.testkit, ["hold-write", "--store", store, "--tenant", "holder"])
        #expect(try await holder.waitFor("holding"), "\(holder.stderr)")
        let data = try Data(contentsOf: URL(fileURLWithPath: store + "/data.mdb"))
        // A reader and a writer in another PID namespace (another container on the same volume).
        // The reader shares a scratch directory holding a live verify's scratch store of this
        // namespace (named for this process): it cannot see that process, so it must leave it.
        let scratch = store + "-scratch"
        let me = ProcessIdentity.current
        let liveScratch = scratch + "/atlas-replay-verify-\(me.pid).\(me.startTime).\(me.pidNamespace)."
            + "\(me.bootID.filter(\.isHexDigit).lowercased())-0123456789ab"
        let barePIDScratch = scratch + "/atlas-replay-verify-\(me.pid)-0123456789ab"
        for d in [liveScratch, barePIDScratch] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        let reader = try await AtlasProcess.run(Self.inNewPIDNamespace(AtlasProcess.replayBinary, ["verify", "--store", store,
                                                                                                  "--scratch-dir", scratch]),
                                                binary: "/usr/bin/unshare")
        #expect(reader.status == 2, "\(reader.stdout) \(reader.stderr)")
        #expect(reader.stderr.contains("in use by a process in another PID namespace"), "\(reader.stderr)")
        for d in [liveScratch, barePIDScratch] {
            #expect(FileManager.default.fileExists(atPath: d), "a verify in another PID namespace removed a live scratch store: \(d)")
        }
        let writer = try await AtlasProcess.run(Self.inNewPIDNamespace(Self.testkit, ["append", "--store", store, "--tenant", "other",
                                                                                     "--batches", "1", "--batch-size", "1", "--inventory"]),
                                                binary: "/usr/bin/unshare")
        #expect(writer.status == 1)
        #expect(writer.stderr.contains("another PID namespace") && writer.stderr.contains("unsupported_sharing"), "\(writer.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: store + "/data.mdb")) == data, "the refused processes wrote to the store")
        // Once the holder has finished, the other namespace may use the store.
        holder.closeInput()
        #expect(try await holder.waitForExit(seconds: 30))
        #expect(holder.process.terminationStatus == 0, "\(holder.stderr)")
        let later = try await AtlasProcess.run(Self.inNewPIDNamespace(AtlasProcess.replayBinary, ["verify", "--store", store]),
                                               binary: "/usr/bin/unshare")
        #expect(later.status == 0, "\(later.stdout) \(later.stderr)")
    }

    /// Two containers, each running its process as PID 1: a lease of one is not the other's own.
    @Test func aLiveLeaseOfAnotherPIDNamespaceWithTheSamePIDIsNotDeclaredDead() async throws {
        guard Self.canUnshare else {
            print("skipped: creating a PID namespace needs root and /usr/bin/unshare")
            return
        }
        let env = try await CrossProcessRunTests.start(tenants: ["contoso"], slowSeconds: nil)
        defer { Task { await env.simulator.stop() } }
        let runID = UUID().uuidString.lowercased()
        let holder = try Child("/usr/bin/unshare", Self.inNewPIDNamespace(Self.testkit, [
            "lease-put", "--store", env.store, "--tenant", "contoso", "--selection", CrossProcessRunTests.selection,
            "--run-id", runID, "--seconds", "300",
        ]))
        #expect(try await holder.waitFor("leased"), "\(holder.stderr)")
        // `atlas sync` of the same tenant and selection, itself PID 1 of another new namespace.
        let (args, environment) = Self.syncCommand(env)
        let inNamespace = try Child("/usr/bin/unshare", Self.inNewPIDNamespace(CrossProcessRunTests.atlasBinary, args),
                                    environment: environment)
        #expect(try await inNamespace.waitForExit(seconds: 60))
        let summary = try? CrossProcessRunTests.summary(inNamespace.stdout)
        #expect(summary?["status"] == "skipped", "\(inNamespace.stdout) \(inNamespace.stderr)")
        #expect(summary?["error_codes"] == ["lock_held"])
        #expect(inNamespace.stderr.contains(runID) && !inNamespace.stderr.contains("reclaimed a dead run"),
                "\(inNamespace.stderr)")
        holder.closeInput()
        #expect(try await holder.waitForExit(seconds: 30))
    }

    // MARK: Leases of an older build

    @Test func anOldFormatLeaseIsReadAndJudgedByItsExpiryAlone() async throws {
        let env = try await CrossProcessRunTests.start(tenants: ["contoso"], slowSeconds: nil)
        defer { Task { await env.simulator.stop() } }
        /// Stores a lease as an older build wrote it (host and PID only) from a process that
        /// then ends.
        func putOldLease(seconds: Int) async throws -> String {
            let runID = UUID().uuidString.lowercased()
            let old = try Child(Self.testkit, ["lease-put", "--store", env.store, "--tenant", "contoso", "--selection",
                                               CrossProcessRunTests.selection, "--run-id", runID,
                                               "--seconds", "\(seconds)", "--legacy"])
            #expect(try await old.waitFor("leased"), "\(old.stderr)")
            old.closeInput()
            #expect(try await old.waitForExit(seconds: 30))
            return runID
        }
        // Its PID names no process now, but a PID alone may be another container's: until the
        // lease expires it holds.
        let holding = try await putOldLease(seconds: 600)
        let early = try await Self.sync(env)
        #expect((try? CrossProcessRunTests.summary(early.stdout))?["error_codes"] == ["lock_held"], "\(early.stdout) \(early.stderr)")
        #expect(early.stderr.contains(holding), "\(early.stderr)")
        // An expired one (it replaces the first as the lock's holder) is reclaimed and the run proceeds.
        let expired = try await putOldLease(seconds: 0)
        let late = try await Self.sync(env)
        #expect((try? CrossProcessRunTests.summary(late.stdout))?["status"] == "success", "\(late.stdout) \(late.stderr)")
        #expect(late.stderr.contains("reclaimed a dead run") && late.stderr.contains("run=\(expired)"), "\(late.stderr)")
        #expect(!late.stderr.contains("run=\(holding)"), "the unexpired old lease's slot is still live")
    }
}
