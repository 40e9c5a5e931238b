import AtlasTesting
import CLMDB
import EventLog
import Foundation
import ReplayKit
import Testing

/// The built `atlas-replay verify` as a running process, with its verifying child.
final class RunningVerify {
    let process = Process()
    let out = Pipe(), err = Pipe()

    init(_ args: [String]) throws {
        process.executableURL = productsDirectory().appendingPathComponent("atlas-replay")
        process.arguments = ["verify"] + args
        // Without Swift's backtracer, whose handler may survive a signal sent from outside: the
        // signals stand for faults, which always kill.
        process.environment = ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { _, new in new }
        process.standardOutput = out
        process.standardError = err
        try process.run()
    }

    /// The verifying child's pid, once it has started (polling `/proc`).
    func child(within seconds: Double = 20) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.processIdentifier)/task")) ?? []
            for t in tasks {
                if let text = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/task/\(t)/children", encoding: .utf8),
                   let pid = text.split(separator: " ").compactMap({ Int32($0) }).first,
                   // Past exec: until then the parent waits in the spawn.
                   let cmdline = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8), cmdline.contains("verify-child") {
                    return pid
                }
            }
            usleep(1000)
        }
        return nil
    }

    func finish() -> ProcessResult {
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}

/// Whether `pid` still runs (a zombie waiting for its new parent to reap it does not), waiting up to 5 s.
func isRunning(_ pid: Int32) -> Bool {
    for _ in 0..<500 {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        if state == "Z" || state == "X" { return false }
        usleep(10_000)
    }
    return true
}

func scratchLeft(_ dir: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix(ScratchStore.namePrefix) }
}

@Suite struct VerifyProcessTests {
    /// Starts `atlas-replay verify` (with `extra` arguments) on a new store, its scratch stores
    /// in their own directory.
    func startVerify(_ extra: [String]) async throws -> (TempDir, String, RunningVerify) {
        let dir = TempDir()
        try await makeStore(dir.store, runs: 6, items: 40)
        let scratch = dir.path + "/scratch"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        return (dir, scratch, try RunningVerify(["--store", dir.store, "--scratch-dir", scratch] + extra))
    }

    /// The checks run in a child: when it dies by a signal (what a damaged page does to LMDB),
    /// the parent reports page damage with exit 1 and removes the scratch store.
    @Test func childKilledBySignalIsReportedAsPageDamage() async throws {
        let (dir, scratch, v) = try await startVerify([])
        let child = try #require(v.child())
        defer { withExtendedLifetime(dir) {} }
        kill(child, SIGSTOP)  // hold it mid-run, then crash it
        kill(child, SIGBUS)
        kill(child, SIGCONT)
        let r = v.finish()
        #expect(r.status == 1, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stderr.contains("page structure damaged") && r.stderr.contains("SIGBUS"), "\(r.stderr)")
        #expect(scratchLeft(scratch).isEmpty)
    }

    /// A step that makes no progress is stopped at the step timeout: exit 1, no hang.
    @Test func stalledChildTimesOut() async throws {
        let (dir, scratch, v) = try await startVerify(["--step-timeout", "2"])
        let child = try #require(v.child())
        defer { withExtendedLifetime(dir) {} }
        kill(child, SIGSTOP)
        let r = v.finish()
        #expect(r.status == 1)
        #expect(r.stderr.contains("made no progress for 2 s"), "\(r.stderr)")
        #expect(scratchLeft(scratch).isEmpty)
    }

    /// SIGTERM to `verify`: the child is killed and the scratch store removed.
    @Test func terminatedVerifyLeavesNoScratch() async throws {
        let (dir, scratch, v) = try await startVerify([])
        let child = try #require(v.child())
        defer { withExtendedLifetime(dir) {} }
        let deadline = Date().addingTimeInterval(20)
        while scratchLeft(scratch).isEmpty && Date() < deadline { usleep(500) }
        kill(child, SIGSTOP)  // the scratch store exists and the child is mid-run
        #expect(!scratchLeft(scratch).isEmpty)
        kill(v.process.processIdentifier, SIGTERM)
        let r = v.finish()
        #expect(r.status == 128 + SIGTERM, "\(r.stderr)")
        #expect(scratchLeft(scratch).isEmpty)
        #expect(!isRunning(child))
    }

    /// A scratch store left by a process that is gone is removed at the next start; one whose
    /// owner lives, lives in another PID namespace (another container sharing the directory) or
    /// is not fully named is left alone.
    @Test func staleScratchIsRemoved() async throws {
        let dir = TempDir()
        try await makeStore(dir.store, runs: 1, items: 3)
        let scratch = dir.path + "/scratch"
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let me = ProcessIdentity.current
        func named(_ owner: ProcessIdentity) -> String {
            (ScratchStore.newDirectory(label: "verify", parent: scratch, owner: owner) as NSString).lastPathComponent
        }
        let stale = named(ProcessIdentity(bootID: me.bootID, pidNamespace: me.pidNamespace, pid: gone.processIdentifier, startTime: 1))
        let live = named(me)
        let otherNamespace = named(ProcessIdentity(bootID: me.bootID, pidNamespace: me.pidNamespace + 1, pid: gone.processIdentifier, startTime: 1))
        let otherBoot = named(ProcessIdentity(bootID: "0123456789abcdef0123456789abcdef", pidNamespace: me.pidNamespace,
                                              pid: gone.processIdentifier, startTime: 1))
        let barePID = "\(ScratchStore.namePrefix)verify-\(gone.processIdentifier)-0123456789ab"
        for d in [stale, live, otherNamespace, otherBoot, barePID] {
            try FileManager.default.createDirectory(atPath: scratch + "/" + d, withIntermediateDirectories: true)
        }
        let r = try await runTool(["verify", "--store", dir.store, "--scratch-dir", scratch])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Set(scratchLeft(scratch)) == [live, otherNamespace, otherBoot, barePID])
    }

    /// Random damage to every table and to random page bytes of a real store: each trial is
    /// detected (exit 1) or harmless (exit 0 with the same head, chain and projections), never a
    /// crash, a hang or a scratch store left behind.
    @Test func mutatedStoresAreDetectedOrHarmless() async throws {
        let dir = TempDir()
        try await makeStore(dir.store, runs: 3, items: 6)
        let scratch = dir.path + "/scratch"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let pristine = try await runTool(["verify", "--store", dir.store, "--json", "--scratch-dir", scratch])
        #expect(pristine.status == 0)
        let baseline = try answers(pristine.stdout)
        let tables = ["events", "event_ids", "tenant_events", "p/inventory_items/1/items", "p/inventory_runs/1/runs", "projections"]
        var mutator = HostileMutator(seed: 0xA71A5)
        var outcomes: [Int32: Int] = [:]
        for trial in 0..<24 {
            let copy = dir.path + "/trial\(trial)"
            try FileManager.default.copyItem(atPath: dir.store, toPath: copy)
            defer { try? FileManager.default.removeItem(atPath: copy) }
            if trial % 3 == 2 {
                try damagePage(copy + "/data.mdb", &mutator)
            } else {
                try mutateEntry(copy, tables[trial % tables.count], &mutator)
            }
            let r = try await runTool(["verify", "--store", copy, "--json", "--scratch-dir", scratch, "--step-timeout", "20"])
            outcomes[r.status, default: 0] += 1
            #expect(r.status == 0 || r.status == 1, "trial \(trial): exit \(r.status)\n\(r.stderr)")
            if r.status == 0 {
                #expect(try answers(r.stdout) == baseline, "trial \(trial) passed verify with different answers")
            } else {
                #expect(!r.stderr.isEmpty, "trial \(trial): exit 1 without a reason")
            }
            #expect(scratchLeft(scratch).isEmpty, "trial \(trial) left a scratch store")
        }
        #expect((outcomes[1] ?? 0) > 0)
    }

    /// What a passing verify vouches for: the head, its chain hash and the projection digests.
    func answers(_ json: String) throws -> String {
        let v = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] ?? [:]
        let digests = (v["projections"] as? [[String: Any]] ?? []).map { "\($0["name"] ?? ""):\($0["live_digest"] ?? "")" }
        return "\(v["head"] ?? "") \(v["chain"] ?? "") \(digests)"
    }

    /// Replaces one entry of `table` with a mutated key or value.
    func mutateEntry(_ path: String, _ table: String, _ m: inout HostileMutator) throws {
        try withProjectionTable(path, table) { txn, dbi in
            var cursor: OpaquePointer?
            #expect(mdb_cursor_open(txn, dbi, &cursor) == 0)
            defer { mdb_cursor_close(cursor) }
            var entries: [([UInt8], [UInt8])] = []
            var k = MDB_val(), v = MDB_val()
            var rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
            while rc == 0 {
                entries.append((Array(UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size)),
                                Array(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))))
                rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
            }
            guard !entries.isEmpty else { return }
            var (key, value) = entries[m.below(entries.count)]
            var old = key
            old.withUnsafeMutableBytes { kb in
                var mk = MDB_val(mv_size: kb.count, mv_data: kb.baseAddress)
                _ = mdb_del(txn, dbi, &mk, nil)
            }
            if m.below(2) == 0 { key = Array(m.mutate(key).prefix(400)) } else { value = m.mutate(value) }
            if key.isEmpty { key = [0] }
            key.withUnsafeMutableBytes { kb in
                value.withUnsafeMutableBytes { vb in
                    var mk = MDB_val(mv_size: kb.count, mv_data: kb.baseAddress)
                    var mv = MDB_val(mv_size: vb.count, mv_data: vb.baseAddress)
                    _ = mdb_put(txn, dbi, &mk, &mv, 0)
                }
            }
        }
    }

    /// Overwrites 1–64 random bytes of one random page after the two meta pages.
    func damagePage(_ file: String, _ m: inout HostileMutator) throws {
        var data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
        let pages = data.count / 4096
        guard pages > 2 else { return }
        let page = 2 + m.below(pages - 2)
        for _ in 0..<(1 + m.below(64)) {
            data[page * 4096 + m.below(4096)] = UInt8(truncatingIfNeeded: m.next())
        }
        try Data(data).write(to: URL(fileURLWithPath: file))
    }
}
