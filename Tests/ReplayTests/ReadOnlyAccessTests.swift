import AtlasTesting
import EventLog
import Foundation
import Inventory
import ReplayKit
import Testing

/// Read commands on stores they must not (or cannot) write: a read-only mount, another user's
/// copy, a copy without its lock file, a store whose writer is stopped holding the write lock.
/// Each compares the answers with a normal read and checks that nothing was created or changed.
@Suite struct ReadOnlyAccessTests {
    static let selection = canonical(SyntheticInventory(tenants: ["contoso"], itemsPerType: 1).selection.json)

    /// The read commands compared, as (tool, arguments without `--store`).
    static let reads: [(String, [String])] = [
        ("atlas", ["items", "--tenant", "contoso", "--json"]),
        ("atlas", ["runs", "--tenant", "contoso", "--json"]),
        ("atlas", ["missing", "--tenant", "contoso", "--selection", selection, "--json"]),
        ("atlas-replay", ["verify"]),
        ("atlas-replay", ["export"]),
        ("atlas-replay", ["stats", "--json"]),
    ]

    /// Every entry under `dir` with its size and modification time, to show nothing changed.
    static func snapshot(_ dir: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
            var st = stat()
            #expect(lstat(dir + "/" + name, &st) == 0)
            out[name] = "\(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec) \(st.st_mode)"
        }
        return out
    }

    /// The outputs of every read command on `store`, run through `wrap` (a prefix of the command line).
    static func answers(_ store: String, wrap: [String] = []) throws -> [String] {
        try reads.map { tool, args in
            let r = try runBounded(wrap + [productsDirectory().appendingPathComponent(tool).path] + args + ["--store", store])
            #expect(r.status == 0, "\(tool) \(args.first!) on \(store): \(r.stderr)")
            return r.stdout
        }
    }

    /// Runs `argv` with its output in files (a hung child cannot block the test on a pipe);
    /// kills it and records exit status -1 when it takes longer than `seconds`.
    static func runBounded(_ argv: [String], seconds: Double = 60) throws -> ProcessResult {
        let dir = TempDir()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0].hasPrefix("/") ? argv[0] : "/usr/bin/env")
        p.arguments = argv[0].hasPrefix("/") ? Array(argv.dropFirst()) : argv
        var env = ProcessInfo.processInfo.environment
        env["ATLAS_STORE"] = nil
        p.environment = env
        FileManager.default.createFile(atPath: dir.path + "/out", contents: nil)
        FileManager.default.createFile(atPath: dir.path + "/err", contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: dir.path + "/out")
        p.standardError = FileHandle(forWritingAtPath: dir.path + "/err")
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        try p.run()
        var status = Int32(-1)
        if done.wait(timeout: .now() + seconds) == .timedOut {
            kill(p.processIdentifier, SIGKILL)
            done.wait()
        } else {
            status = p.terminationStatus
        }
        let out = (try? String(contentsOfFile: dir.path + "/out", encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: dir.path + "/err", encoding: .utf8)) ?? ""
        return ProcessResult(status: status, stdout: out, stderr: err)
    }

    /// A copy of `dir.store` owned by root that other users (65534) may read and traverse but
    /// not write (its lock file included).
    static func foreignReadableCopy(_ dir: TempDir) throws -> String {
        let copy = dir.path + "/copy"
        try FileManager.default.copyItem(atPath: dir.store, toPath: copy)
        for p in [dir.path, copy] { chmod(p, 0o755) }
        for name in try FileManager.default.contentsOfDirectory(atPath: copy) { chmod(copy + "/" + name, 0o644) }
        return copy
    }

    /// A store with a few runs of contoso, the last one with an incomplete type (so `missing`
    /// has something to say), written and closed.
    static func makeReadStore(_ dir: TempDir) async throws {
        try await makeStore(dir.store, tenants: ["contoso"], runs: 3, items: 5)
    }

    @Test func readOnlyMountGivesTheSameAnswersAndWritesNothing() async throws {
        let dir = TempDir()
        try await Self.makeReadStore(dir)
        let expected = try Self.answers(dir.store)
        // A private mount namespace with the store bound read-only over itself.
        let probe = try Self.runBounded(["unshare", "-m", "--propagation", "private", "sh", "-c",
                                         "mount --bind -o ro \"$0\" \"$0\" && ! touch \"$0/probe\" 2>/dev/null", dir.store])
        guard probe.status == 0 else {
            print("skipped readOnlyMountGivesTheSameAnswersAndWritesNothing: a read-only bind mount is not permitted here (\(probe.stderr.trimmingCharacters(in: .whitespacesAndNewlines)))")
            return
        }
        let before = try Self.snapshot(dir.store)
        let wrap = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                    "mount --bind -o ro \"$0\" \"$0\" && shift && exec \"$@\"", dir.store, "--"]
        #expect(try Self.answers(dir.store, wrap: wrap) == expected)
        #expect(try Self.snapshot(dir.store) == before)
    }

    @Test func anotherUsersCopyGivesTheSameAnswersAndWritesNothing() async throws {
        let dir = TempDir()
        try await Self.makeReadStore(dir)
        let expected = try Self.answers(dir.store)
        guard getuid() == 0 else {
            print("skipped anotherUsersCopyGivesTheSameAnswersAndWritesNothing: needs root to run a command as another user")
            return
        }
        let copy = try Self.foreignReadableCopy(dir)
        let asNobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        let probe = try Self.runBounded(asNobody + ["sh", "-c", "test -r \"$0/data.mdb\" && test -x \"$1\" && ! test -w \"$0/lock.mdb\"",
                                                    copy, productsDirectory().appendingPathComponent("atlas").path])
        guard probe.status == 0 else {
            print("skipped anotherUsersCopyGivesTheSameAnswersAndWritesNothing: user 65534 cannot reach the copy or the built tools (\(probe.stderr))")
            return
        }
        let before = try Self.snapshot(copy)
        #expect(try Self.answers(copy, wrap: asNobody) == expected)
        #expect(try Self.snapshot(copy) == before)
    }

    @Test func tailWithoutAConsumerFollowsAnotherUsersReadOnlyCopy() async throws {
        let dir = TempDir()
        let head = try await makeStore(dir.store, tenants: ["contoso"], runs: 2, items: 3)
        guard getuid() == 0 else {
            print("skipped tailWithoutAConsumerFollowsAnotherUsersReadOnlyCopy: needs root to run a command as another user")
            return
        }
        let copy = try Self.foreignReadableCopy(dir)
        let before = try Self.snapshot(copy)
        let out = dir.path + "/tail.out"
        FileManager.default.createFile(atPath: out, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        p.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups",
                       productsDirectory().appendingPathComponent("atlas-replay").path, "tail", "--from", "1", "--store", copy]
        p.standardOutput = FileHandle(forWritingAtPath: out)
        p.standardError = FileHandle.nullDevice
        try p.run()
        var lines = 0
        for _ in 0..<600 where lines < Int(head.position) {
            usleep(50_000)
            lines = ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n").count
        }
        p.terminate()
        p.waitUntilExit()
        #expect(lines == Int(head.position), "tail printed \(lines) of \(head.position) events")
        #expect(p.terminationStatus == 0)
        #expect(try Self.snapshot(copy) == before)
    }

    @Test func aCopyWithoutItsLockFileGetsNoneCreated() async throws {
        let dir = TempDir()
        try await Self.makeReadStore(dir)
        let expected = try Self.answers(dir.store)
        #expect(unlink(dir.store + "/lock.mdb") == 0)
        let before = try Self.snapshot(dir.store)
        #expect(try Self.answers(dir.store) == expected)
        #expect(try Self.snapshot(dir.store) == before)
        #expect(!FileManager.default.fileExists(atPath: dir.store + "/lock.mdb"))
    }

    @Test func aStoppedWriterHoldingTheWriteLockDoesNotBlockReaders() async throws {
        let dir = TempDir()
        try await Self.makeReadStore(dir)
        let expected = try Self.answers(dir.store)
        // A python-lmdb writer that takes the write lock and stops itself while holding it.
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        writer.arguments = ["-c", """
            import lmdb, os, signal, sys
            env = lmdb.open(sys.argv[1], max_dbs=256, map_size=1 << 30)
            txn = env.begin(write=True)
            print("locked", flush=True)
            os.kill(os.getpid(), signal.SIGSTOP)
            """, dir.store]
        let out = Pipe()
        writer.standardOutput = out
        try writer.run()
        defer {
            kill(writer.processIdentifier, SIGKILL)
            kill(writer.processIdentifier, SIGCONT)
            writer.waitUntilExit()
        }
        let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        #expect(line.hasPrefix("locked"), "the writer did not take the lock: \(line)")
        // Wait until it is stopped (state T in /proc).
        for _ in 0..<200 {
            let stat = (try? String(contentsOfFile: "/proc/\(writer.processIdentifier)/stat", encoding: .utf8)) ?? ""
            if stat.split(separator: ")").last?.split(separator: " ").first == "T" { break }
            usleep(10_000)
        }
        for (tool, args) in Self.reads.filter({ $0.0 == "atlas" }) {
            let r = try Self.runBounded([productsDirectory().appendingPathComponent(tool).path] + args + ["--store", dir.store], seconds: 20)
            #expect(r.status == 0, "\(args.first!) with a stopped writer: status \(r.status) (-1: still waiting after 20 s) \(r.stderr)")
            #expect(expected.contains(r.stdout))
        }
    }

    @Test func projectionsBehindTheLogAreRefusedNamingRebuildAndNothingIsWritten() async throws {
        let dir = TempDir()
        try await Self.makeReadStore(dir)
        do {
            // A process without the inventory projections appends a run: they now lag.
            let bare = try LMDBEventStore.open(path: dir.store, options: .init(durability: .relaxed))
            var gen = SyntheticInventory(tenants: ["contoso"], itemsPerType: 2)
            try await bare.append(gen.nextRun(tenant: "contoso"))
        }
        // The lock file is usable here, so readers take reader slots in it (LMDB's coordination
        // file); the data file and the directory must not change.
        func dataFiles() throws -> [String: String] { try Self.snapshot(dir.store).filter { $0.key != "lock.mdb" } }
        let before = try dataFiles()
        for (tool, args) in Self.reads.filter({ $0.0 == "atlas" }) {
            let r = try await runTool(args + ["--store", dir.store], tool: tool)
            #expect(r.status == 2, "\(args.first!): \(r.stdout) \(r.stderr)")
            #expect(r.stderr.contains("atlas-replay rebuild") && r.stderr.contains("up to position"), "\(r.stderr)")
        }
        #expect(try dataFiles() == before)
        #expect(try Self.snapshot(dir.store).keys.sorted() == ["data.mdb", "lock.mdb"])
        // After a rebuild the same commands answer.
        #expect(try await runTool(["rebuild", "--store", dir.store]).status == 0)
        #expect(try await runTool(["items", "--tenant", "contoso", "--store", dir.store], tool: "atlas").status == 0)
    }
}
