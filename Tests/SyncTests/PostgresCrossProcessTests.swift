import AtlasTesting
import CanonicalJSON
import EventLog
import Foundation
import Inventory
import Sync
import Testing

/// Real `atlas` and `atlas-replay` processes against one PostgreSQL store.
@Suite("PostgreSQL across processes")
struct PostgresCrossProcessTests {
    static let selection = #"{"policy_types":["deviceConfiguration"]}"#
    static let verifier = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("python/verify_postgres_chain.py").path

    /// A complete offline export of `count` deviceConfiguration items named for `tenant`.
    static func export(_ tenant: String, count: Int) throws -> String {
        let dir = NSTemporaryDirectory() + "atlas-pgx-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var lines = (0..<count).map { OfflineFixture.itemLine("deviceConfiguration", OfflineFixture.item("\(tenant)-\($0)")) }
        lines.append(OfflineFixture.markerLine("deviceConfiguration", count: count))
        let path = dir + "/export.ndjson"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func sync(_ tenant: String, _ store: String, count: Int = 50) throws -> Process {
        try AtlasProcess.start(["sync", "--tenant", tenant, "--selection", selection, "--from-file", export(tenant, count: count),
                                "--json", "--store", store])
    }

    static func replay(_ args: [String]) async throws -> AtlasProcess.Ran {
        try await AtlasProcess.run(args, binary: AtlasProcess.replayBinary)
    }

    /// What the independent Python reader computes from `atlas.events`: its JSON line.
    static func pythonHead(_ url: String) async throws -> String {
        let dump = try await PostgresTestCluster.shared().query(url, """
            COPY (SELECT position, encode(chain, 'hex'), encode(envelope, 'hex') FROM atlas.events ORDER BY position) TO STDOUT
            """)
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        python.arguments = [verifier]
        let input = Pipe()
        python.standardInput = input
        python.standardOutput = Pipe()
        python.standardError = Pipe()
        try python.run()
        input.fileHandleForWriting.write(Data(dump.utf8))
        try input.fileHandleForWriting.close()
        let r = await ChildOutput.collect(python)
        #expect(r.status == 0, "\(String(decoding: r.stderr, as: UTF8.self))")
        return String(decoding: r.stdout, as: UTF8.self)
    }

    @Test func twoTenantsSyncAtOnceIntoOneStore() async throws {
        let url = try await PostgresTestCluster.shared().createDatabase("xsync")
        let a = try Self.sync("contoso", url), b = try Self.sync("fabrikam", url)
        let ra = await AtlasProcess.finish(a), rb = await AtlasProcess.finish(b)
        #expect(ra.status == 0, "\(ra.stdout) \(ra.stderr)")
        #expect(rb.status == 0, "\(rb.stdout) \(rb.stderr)")
        let verify = try await Self.replay(["verify", "--store", url])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        let head = try await PostgresTestCluster.shared().query(url, "SELECT position, encode(chain, 'hex') FROM atlas.head")
        let parts = head.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|")
        #expect(parts.count == 2)
        let count = try await PostgresTestCluster.shared().query(url, "SELECT count(*), min(position), max(position) FROM atlas.events")
        #expect(count == "\(parts[0])|1|\(parts[0])\n", "positions are gapless")
        #expect(try await Self.pythonHead(url) == "{\"events\": \(parts[0]), \"head\": \"\(parts[1])\"}\n")
    }

    @Test func aFollowerProcessPrintsWhatALaterSyncAppends() async throws {
        let url = try await PostgresTestCluster.shared().createDatabase("xtail")
        let first = try await AtlasProcess.finish(Self.sync("contoso", url, count: 3))
        #expect(first.status == 0, "\(first.stderr)")
        let tail = try AtlasProcess.start(["tail", "--store", url, "--tenant", "fabrikam"], binary: AtlasProcess.replayBinary)
        let seen = Seen()
        (tail.standardOutput as! Pipe).fileHandleForReading.readabilityHandler = { h in seen.add(h.availableData) }
        try await Task.sleep(for: .seconds(1))
        let later = try await AtlasProcess.finish(Self.sync("fabrikam", url, count: 3))
        #expect(later.status == 0, "\(later.stderr)")
        let deadline = ContinuousClock.now + .seconds(30)
        while !seen.text.contains("fabrikam-2"), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        tail.terminate()
        tail.waitUntilExit()
        (tail.standardOutput as! Pipe).fileHandleForReading.readabilityHandler = nil
        #expect(seen.text.contains("fabrikam-2"), "tail printed: \(seen.text)")
        #expect(!seen.text.contains("contoso-"), "only the tenant asked for")
    }

    @Test func copyLMDBToPostgresAndBackKeepsTheHead() async throws {
        let dir = NSTemporaryDirectory() + "atlas-pgcopy-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let lmdb = dir + "/source", back = dir + "/back"
        for t in ["contoso", "fabrikam"] {
            let r = try await AtlasProcess.finish(Self.sync(t, lmdb, count: 20))
            #expect(r.status == 0, "\(r.stderr)")
        }
        let url = try await PostgresTestCluster.shared().createDatabase("xcopy")
        for (from, to) in [(lmdb, url), (url, back)] {
            let r = try await Self.replay(["copy", "--store", from, "--to", to])
            #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        }
        for s in [lmdb, url, back] {
            let r = try await Self.replay(["verify", "--store", s])
            #expect(r.status == 0, "\(s): \(r.stdout) \(r.stderr)")
        }
        let source = try LMDBEventStore.open(path: lmdb).head()
        #expect(try LMDBEventStore.open(path: back).head() == source)
        #expect(try await Self.pythonHead(url) == "{\"events\": \(source.position), \"head\": \"\(source.chainHash.hex)\"}\n")
    }

    @Test func aReadOnlyRoleServesTheReadCommandsAndRefusesSync() async throws {
        let cluster = try await PostgresTestCluster.shared()
        let url = try await cluster.createDatabase("xreadonly")
        let r = try await AtlasProcess.finish(Self.sync("contoso", url, count: 5))
        #expect(r.status == 0, "\(r.stderr)")
        let role = "atlas_reader_\(UInt32.random(in: 0...UInt32.max))"
        _ = try await cluster.query(url, """
            CREATE ROLE \(role) LOGIN PASSWORD 'reader-pw';
            GRANT USAGE ON SCHEMA atlas TO \(role);
            GRANT SELECT ON ALL TABLES IN SCHEMA atlas TO \(role);
            """)
        var components = URLComponents(string: url)!
        components.user = role
        components.password = "reader-pw"
        let reader = components.string!
        for args in [["items", "--tenant", "contoso"], ["runs", "--tenant", "contoso"],
                     ["missing", "--tenant", "contoso", "--selection", Self.selection], ["tenants"]] {
            let ran = try await AtlasProcess.run(args + ["--store", reader])
            #expect(ran.status == 0, "atlas \(args[0]): \(ran.stdout) \(ran.stderr)")
        }
        for args in [["verify"], ["export"]] {
            let ran = try await Self.replay(args + ["--store", reader])
            #expect(ran.status == 0, "atlas-replay \(args[0]): \(ran.stdout) \(ran.stderr)")
        }
        let before = try await cluster.query(url, "SELECT count(*) FROM atlas.events")
        let refused = try await AtlasProcess.finish(Self.sync("contoso", reader, count: 5))
        #expect(refused.status == 2, "a store this role may not write is a usage error, as on LMDB: \(refused.stdout)")
        #expect(refused.stderr.contains("role \(role) may only read this store") && !refused.stderr.contains("reader-pw"),
                "\(refused.stderr)")
        #expect(try await cluster.query(url, "SELECT count(*) FROM atlas.events") == "\(before)", "nothing was written")
    }
}

/// Output gathered from a pipe's handler thread.
private final class Seen: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func add(_ d: Data) { lock.withLock { data.append(d) } }
    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}
