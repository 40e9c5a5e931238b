import AtlasTesting
import EventLog
import EventLogPostgres
import Foundation
import Testing

/// A caught-up subscription on PostgreSQL is woken by LISTEN/NOTIFY, not by polling, and keeps
/// receiving events after its LISTEN connection is killed.
@Suite("PostgreSQL wake signal")
struct PostgresWakeTests {
    /// Polling so rare that only a notification can wake a subscription within the test.
    static let rarely = Duration.seconds(600)
    static let generous = Duration.seconds(30)

    @Test func anotherStoresAppendWakesTheSubscriptionAndSurvivesAKilledListenConnection() async throws {
        let url = try await PostgresTestCluster.shared().createDatabase("wake")
        let follower = try PostgresEventStore.open(url: url, options: .init(
            create: true, wakePollInterval: Self.rarely, wakeSafetyRescan: Self.rarely))
        defer { follower.close() }
        let writer = try PostgresEventStore.open(url: url, options: .init(create: true))
        defer { writer.close() }
        try await writer.append([makeEvent(n: 0)])

        let sub = try follower.subscribe(after: 0, filter: .all, options: .init())
        #expect(try await Self.next(sub)?.position == 1)
        try await Self.waitUntil("the subscription listens") { sub.wakeMode == "listen" }

        // Caught up: only the NOTIFY of the writer's commit can wake it in time.
        try await writer.append([makeEvent(n: 1)])
        #expect(try await Self.next(sub)?.position == 2)

        // Kill the LISTEN connection: the signal reconnects, rescans and listens again.
        let killed = try await PostgresTestCluster.shared().query(url, """
            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
            WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()
            """)
        #expect(killed.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        try await writer.append([makeEvent(n: 2)])
        #expect(try await Self.next(sub)?.position == 3)
        try await Self.waitUntil("the subscription listens again") {
            guard sub.wakeMode == "listen" else { return false }
            let listening = try? await PostgresTestCluster.shared().query(url, """
                SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'
                """)
            return listening?.trimmingCharacters(in: .whitespacesAndNewlines) == "1"
        }
        try await writer.append([makeEvent(n: 3)])
        #expect(try await Self.next(sub)?.position == 4)
        try await sub.close()
    }

    @Test func withoutWatchingTheSubscriptionPolls() async throws {
        let url = try await PostgresTestCluster.shared().createDatabase("wakepoll")
        let store = try PostgresEventStore.open(url: url, options: .init(create: true, wakePollInterval: .milliseconds(50)))
        defer { store.close() }
        let sub = try store.subscribe(after: 0, filter: .all, options: .init(watch: false))
        #expect(sub.wakeMode == "polling")
        let other = try PostgresEventStore.open(url: url)
        defer { other.close() }
        try await other.append([makeEvent(n: 0)])
        #expect(try await Self.next(sub)?.position == 1)
        try await sub.close()
    }

    /// The next event, or nil when none arrives within the generous timeout (which closes the
    /// subscription).
    static func next(_ sub: EventSubscription) async throws -> RawEvent? {
        let timer = Task {
            try await Task.sleep(for: generous)
            try await sub.close()
        }
        defer { timer.cancel() }
        var it = sub.makeAsyncIterator()
        return try await it.next()
    }

    static func waitUntil(_ what: String, _ condition: @Sendable () async -> Bool) async throws {
        let deadline = ContinuousClock.now + generous
        while await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting until \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
