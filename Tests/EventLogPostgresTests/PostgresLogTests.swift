import AtlasTesting
import EventLog
import EventLogPostgres
import Foundation
import Testing

/// What only the PostgreSQL backend has: other readers of its tables, and writers on other hosts.
@Suite("PostgreSQL log")
struct PostgresLogTests {
    /// `Tests/python/verify_postgres_chain.py`, found from this file.
    static let verifier = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("python/verify_postgres_chain.py").path

    @Test func psqlAndPythonRecomputeTheChain() async throws {
        let cluster = try await PostgresTestCluster.shared()
        let url = try await cluster.createDatabase("reader")
        let store = try PostgresEventStore.open(url: url, options: .init(create: true, projections: [TenantCounts()]))
        for batch in 0..<5 {
            try await store.append((0..<40).map { makeEvent(tenant: "t\($0 % 3)", n: batch * 40 + $0) })
        }
        let dump = try await cluster.query(url, """
            COPY (SELECT position, encode(chain, 'hex'), encode(envelope, 'hex') FROM atlas.events ORDER BY position) TO STDOUT
            """)
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        python.arguments = [Self.verifier]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        python.standardInput = input
        python.standardOutput = output
        python.standardError = errors
        try python.run()
        input.fileHandleForWriting.write(Data(dump.utf8))
        try input.fileHandleForWriting.close()
        let result = await ChildOutput.collect(python)
        #expect(result.status == 0, "\(String(decoding: result.stderr, as: UTF8.self))")
        let head = try store.head()
        #expect(String(decoding: result.stdout, as: UTF8.self) == "{\"events\": 200, \"head\": \"\(head.chainHash.hex)\"}\n")
        // The head row agrees with the last event.
        #expect(try await cluster.query(url, "SELECT position, encode(chain, 'hex') FROM atlas.head") == "200|\(head.chainHash.hex)\n")
    }

    @Test func twoHostsAppendConcurrentlyWithoutGaps() async throws {
        let url = try await PostgresTestCluster.shared().createDatabase("hosts")
        // Two store instances: two connection pools and two writers, as two hosts would have.
        let a = try PostgresEventStore.open(url: url, options: .init(create: true, projections: [TenantCounts()]))
        let b = try PostgresEventStore.open(url: url, options: .init(create: true, projections: [TenantCounts()]))
        let perWriter = 30
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (name, store) in [("a", a), ("b", b)] {
                for w in 0..<3 {
                    group.addTask {
                        for i in 0..<perWriter {
                            try await store.append([makeEvent(tenant: "\(name)\(w)", n: i), makeEvent(tenant: "\(name)\(w)", n: i)])
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let events = try allRawEvents(a)
        #expect(events.count == 2 * 3 * perWriter * 2)
        #expect(try IndependentChain.recompute(events).get() == (try b.head()).chainHash.bytes)
        let c = try counts(b)
        #expect(c.count == 6)
        #expect(c.values.allSatisfy { $0 == UInt64(perWriter * 2) })
    }

    @Test func refusesDatabasesThatAreNotAtlasStoresOrAreNewer() async throws {
        let cluster = try await PostgresTestCluster.shared()
        let other = try await cluster.createDatabase("other")
        _ = try await cluster.query(other, "CREATE SCHEMA atlas; CREATE TABLE atlas.something (x int)")
        await expectCode(.notAStore) { _ = try PostgresEventStore.open(url: other, options: .init(create: true)) }
        let newer = try await cluster.createDatabase("newer")
        _ = try PostgresEventStore.open(url: newer, options: .init(create: true))
        _ = try await cluster.query(newer, "UPDATE atlas.meta SET value = '99' WHERE key = 'format_version'")
        await expectCode(.newerFormat) { _ = try PostgresEventStore.open(url: newer) }
        _ = try await cluster.query(newer, "UPDATE atlas.meta SET value = '2' WHERE key = 'format_version'; UPDATE atlas.meta SET value = '99' WHERE key = 'schema_version'")
        await expectCode(.newerFormat) { _ = try PostgresEventStore.open(url: newer) }
        // A database that does not exist, and a password never shown.
        let missing = try PostgresURL(parsing: other, environment: [:]).with(database: "no_such_database")
        var withPassword = missing
        withPassword.password = "hunter2-secret"
        do {
            _ = try PostgresEventStore.open(url: withPassword)
            Issue.record("opened a database that does not exist")
        } catch let e as EventLogError {
            #expect(e.code == .notAStore, "\(e)")
            #expect(!e.description.contains("hunter2"))
        }
    }

    @Test func metadataNamesTheStore() async throws {
        let url = try await PostgresTestCluster.shared().createDatabase("meta")
        let store = try PostgresEventStore.open(url: url, options: .init(create: true))
        let meta = try store.metadata()
        #expect(meta["format_version"] == "2")
        #expect(meta["schema_version"] == "1")
        #expect(meta["store_id"].flatMap(EventID.init) != nil)
    }
}
