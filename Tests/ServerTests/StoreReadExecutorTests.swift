import AtlasServer
import AtlasTesting
import EventLog
import EventLogPostgres
import Foundation
import Inventory
import Synchronization
import Testing

/// Requests of a server whose store's reads wait for a database server run on threads of
/// their own (``StoreReadExecutor``), a bounded number of them.
@Suite(.serialized) struct StoreReadExecutorTests {
    @Test func onlyAStoreWhoseReadsWaitForAServerMovesRequestsOffThePool() async throws {
        let url = try await PostgresTestCluster.shared().createDatabase("executor")
        let pg = try PostgresEventStore.open(url: url, options: .init(create: true, projections: InventoryProjections.all))
        defer { pg.close() }
        let onPostgres = AtlasServer(store: pg, configuration: .init(port: 0), logger: ServerFixture.quietLogger)
        #expect(onPostgres.readExecutor is StoreReadExecutor)
        let f = try ServerFixture()
        try await f.sync("contoso.com", ["a1"])
        let onLMDB = AtlasServer(store: try f.readOnlyStore(), configuration: .init(port: 0), logger: ServerFixture.quietLogger)
        #expect(onLMDB.readExecutor == nil)

        // With every thread of the executor held, the PostgreSQL server's requests wait for
        // one; the LMDB server's do not.
        for (server, waits) in [(onPostgres, true), (onLMDB, false)] {
            let base = try await server.start()
            let executor = StoreReadExecutor.shared
            let gate = DispatchSemaphore(value: 0)
            let counts = Counts()
            for _ in 0..<executor.threads {
                Task(executorPreference: executor) {
                    counts.started.add(1, ordering: .relaxed)
                    gate.wait()
                }
            }
            try await Self.waitUntil { counts.started.load(ordering: .relaxed) == executor.threads }
            if waits {
                let request = Task {
                    let status = try await HTTP.get(base + "/api/v1/health").status
                    counts.finished.add(1, ordering: .relaxed)
                    return status
                }
                try await Task.sleep(for: .milliseconds(500))
                #expect(counts.finished.load(ordering: .relaxed) == 0, "answered without a thread of the executor")
                for _ in 0..<executor.threads { gate.signal() }
                #expect(try await request.value == 200)
            } else {
                // Answered while every thread of the executor is still held.
                #expect(try await HTTP.get(base + "/api/v1/health").status == 200)
                for _ in 0..<executor.threads { gate.signal() }
            }
            await server.stop()
        }
    }

    @Test func runsTasksOnItsThreadsAtMostThatManyAtOnce() async throws {
        let executor = StoreReadExecutor.shared
        #expect(!executor.runsCurrentThread)
        // An async function called with the preference runs on the executor's threads.
        #expect(await withTaskExecutorPreference(executor) { await Self.onExecutor(executor) })
        #expect(await Task(executorPreference: executor) { executor.runsCurrentThread }.value)

        // Every thread held by a task that waits; one task more must wait for a thread.
        let gate = DispatchSemaphore(value: 0)
        let counts = Counts()
        let n = executor.threads
        for _ in 0...n {
            Task(executorPreference: executor) {
                counts.started.add(1, ordering: .relaxed)
                gate.wait()
                counts.finished.add(1, ordering: .relaxed)
            }
        }
        try await Self.waitUntil { counts.started.load(ordering: .relaxed) == n }
        try await Task.sleep(for: .milliseconds(300))
        #expect(counts.started.load(ordering: .relaxed) == n, "more tasks ran at once than the executor has threads")
        for _ in 0...n { gate.signal() }
        try await Self.waitUntil { counts.finished.load(ordering: .relaxed) == n + 1 }
        #expect(counts.started.load(ordering: .relaxed) == n + 1)
    }

    final class Counts: Sendable {
        let started = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
    }

    static func onExecutor(_ executor: StoreReadExecutor) async -> Bool { executor.runsCurrentThread }

    static func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
