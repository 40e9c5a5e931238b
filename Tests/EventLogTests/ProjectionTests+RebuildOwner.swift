import CanonicalJSON
import EventLog
import Foundation
import LMDB
import Testing

/// Who owns an unfinished rebuild: a `building` record names its process by boot id, PID
/// namespace, PID and start time, so a reused PID or a PID of another namespace is not taken
/// for a live owner.
extension ProjectionTests {
    /// A live process of this namespace to name as a rebuild's owner (spawned and reaped
    /// directly: no Foundation `Process` waiting on the test's threads).
    final class Sleeper {
        let pid: Int32
        init() throws {
            var pid: pid_t = 0
            var argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("60"), nil]
            defer { argv.forEach { free($0) } }
            guard posix_spawn(&pid, "/bin/sleep", nil, nil, &argv, environ) == 0 else { throw Boom() }
            self.pid = pid
        }
        deinit {
            kill(pid, SIGKILL)
            waitpid(pid, nil, 0)
        }
    }

    /// Writes a `building` record for generation 5 of `tenant_counts` with owner `owner` (and
    /// a half-filled table of that generation) into the closed store at `path`.
    func plantRebuild(_ path: String, owner: ProcessIdentity) throws {
        do {
            let env = try sharedEnvironment(path)
            let records = try #require(try env.openDatabase("projections", key: RawBytes.self, value: RawBytes.self, create: false))
            let junk = try #require(try env.openDatabase("p/tenant_counts/5/counts", key: RawBytes.self, value: RawBytes.self))
            try env.writeSync { txn in
                let record = try #require(try txn.get(records, Array("tenant_counts".utf8)))
                guard case .object(var o) = try JSONParser().parse(record) else { throw Boom() }
                o["building"] = .object(owner.jsonMembers.merging(["generation": 5, "version": 1, "checkpoint": 3]) { a, _ in a })
                try txn.put(records, Array("tenant_counts".utf8), try CanonicalJSON.serialize(.object(o)))
                try txn.put(junk, Array("tenant-0".utf8), UInt64BE.bytes(12345))
            }
        }
        waitUntilClosed(path)
    }

    func buildingRecord(_ path: String) throws -> JSONValue? {
        let record = try sharedEnvironment(path).read { txn in
            try txn.get(try #require(try sharedEnvironment(path).openDatabase("projections", key: RawBytes.self, value: RawBytes.self, create: false)),
                        Array("tenant_counts".utf8))
        }
        return try JSONParser().parse(try #require(record))["building"]
    }

    @Test func rebuildOwnerIsJudgedByPIDAndStartTime() async throws {
        let sleeper = try Sleeper()
        let me = ProcessIdentity.current
        let start = try #require(ProcessIdentity.startTime(of: sleeper.pid))
        let live = ProcessIdentity(bootID: me.bootID, pidNamespace: me.pidNamespace, pid: sleeper.pid, startTime: start)

        // Its process alive (same PID and start time): the rebuild is kept and another refused.
        let path = try await filledClosedStore()
        try plantRebuild(path, owner: live)
        do {
            let store = try openStore(path, create: false, projections: [TenantCounts()])
            #expect(try buildingRecord(path)?["pid"]?.intValue == Int(sleeper.pid))
            #expect {
                try store.rebuildSync(named: nil, progress: nil)
            } throws: { error in
                (error as? EventLogError)?.message.contains("being rebuilt by process pid \(sleeper.pid)") == true
            }
        }
        waitUntilClosed(path)

        // The same PID with another start time is another process (the PID was reused): the
        // rebuild was abandoned, and is discarded on open.
        var reused = live
        reused.startTime += 7
        try plantRebuild(path, owner: reused)
        let store = try openStore(path, create: false, projections: [TenantCounts()])
        #expect(try buildingRecord(path) == nil)
        #expect(!(try sharedEnvironment(path).databaseNames()).contains { $0.hasPrefix("p/tenant_counts/5/") })
        try store.rebuildSync(named: nil, progress: nil)
        try expectMatchesScratch(store)
        withExtendedLifetime(sleeper) {}
    }

    @Test func rebuildOfAnotherPIDNamespaceIsDiscardedOnOpen() async throws {
        // A PID alive here, but counted in another namespace: not this process's to look at.
        // That process does not hold the store (an open refuses a store held from another
        // namespace), so its rebuild was abandoned.
        let sleeper = try Sleeper()
        let me = ProcessIdentity.current
        let other = ProcessIdentity(bootID: me.bootID, pidNamespace: me.pidNamespace + 1, pid: sleeper.pid,
                                    startTime: try #require(ProcessIdentity.startTime(of: sleeper.pid)))
        let path = try await filledClosedStore()
        try plantRebuild(path, owner: other)
        let store = try openStore(path, create: false, projections: [TenantCounts()])
        #expect(try buildingRecord(path) == nil)
        try store.rebuildSync(named: nil, progress: nil)
        try expectMatchesScratch(store)
        withExtendedLifetime(sleeper) {}
    }
}
