import EventLog
import Foundation
import LMDB
import Testing

/// One live subscription per consumer name (its lease in the store), and the filter its
/// checkpoint records: in this process and against real `atlas-testkit` followers.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ConsumerLeaseTests {
    static func code(_ body: () throws -> Void) -> (EventLogError.Code?, String) {
        do {
            try body()
            return (nil, "")
        } catch let e as EventLogError {
            return (e.code, e.message)
        } catch {
            return (nil, "\(error)")
        }
    }

    @Test func aSecondSubscriptionOfAConsumerIsRefusedNamingTheHolderUntilTheFirstEnds() async throws {
        let store = try SubKit.open(SubKit.path())
        try await store.append((0..<3).map { SubKit.event(n: $0) })
        let first = try store.subscribe(consumer: "billing")
        let lease = try #require(try store.consumerLease("billing"))
        #expect(lease.pid == getpid() && lease.host == ConsumerLease.localHost && lease.isHolderAlive())
        let (code, message) = Self.code { _ = try store.subscribe(consumer: "billing") }
        #expect(code == .consumerHeld)
        #expect(message.contains("pid \(getpid()) on \(ConsumerLease.localHost) since \(lease.since)"), "\(message)")
        // Admin changes wait for the holder too.
        await #expect(throws: EventLogError.self) { try await store.setConsumerCheckpoint("billing", to: 1) }
        await #expect(throws: EventLogError.self) { try await store.removeConsumer("billing") }
        // Another name is independent.
        let other = try store.subscribe(consumer: "audit")
        try await other.close()

        try await first.close()
        #expect(try store.consumerLease("billing") == nil, "close releases the lease")
        // A subscription dropped without close: its lease is known dead in this process at once.
        do { _ = try store.subscribe(consumer: "billing") }
        let again = try store.subscribe(consumer: "billing")
        try await again.close()
    }

    @Test func theCheckpointRecordsItsFilterAndAnotherFilterIsRefusedUnlessReset() async throws {
        let store = try SubKit.open(SubKit.path())
        try await store.append([SubKit.event(tenant: "contoso"), SubKit.event(tenant: "fabrikam"), SubKit.event(tenant: "contoso")])
        let contoso = SubscriptionFilter(tenant: "contoso")
        let sub = try store.subscribe(consumer: "billing", filter: contoso, options: .init(flushInterval: .zero))
        #expect(try await SubKit.collect(sub, count: 2).map(\.position) == [1, 3])
        try sub.ack(3)
        try await sub.close()
        #expect(try store.consumerCheckpoint("billing")?.filter == contoso)

        let fabrikam = SubscriptionFilter(tenant: "fabrikam")
        let (code, message) = Self.code { _ = try store.subscribe(consumer: "billing", filter: fabrikam) }
        #expect(code == .consumerFilterMismatch)
        #expect(message == "consumer billing follows tenant=contoso, not tenant=fabrikam")
        #expect(Self.code { _ = try store.subscribe(consumer: "billing", filter: .all) }.0 == .consumerFilterMismatch)
        #expect(try store.consumerCheckpoint("billing")?.acknowledged == 3, "a refused subscription changes nothing")
        #expect(try store.consumerLease("billing") == nil, "nor leaves a lease")

        // The same filter resumes; reset starts again with the new one.
        let resumed = try store.subscribe(consumer: "billing", filter: contoso)
        #expect(resumed.startPosition == 3)
        try await resumed.close()
        let reset = try store.subscribe(consumer: "billing", filter: fabrikam, startingAfter: 0, reset: true)
        #expect(reset.startPosition == 0)
        #expect(try store.consumerCheckpoint("billing") == nil, "reset removed the old checkpoint")
        #expect(try await SubKit.collect(reset, count: 1).map(\.position) == [2])
        try reset.ack(2)
        try await reset.close()
        let checkpoint = try #require(try store.consumerCheckpoint("billing"))
        #expect(checkpoint.filter == fabrikam && checkpoint.acknowledged >= 2)
    }

    @Test func aCheckpointWithoutAFilterAdoptsTheFilterOfItsNextSubscription() async throws {
        let store = try SubKit.open(SubKit.path())
        try await store.append((0..<4).map { SubKit.event(n: $0) })
        // A checkpoint as older builds wrote it: no filter member.
        try await store.setConsumerCheckpoint("legacy", to: 2)
        #expect(try store.consumerCheckpoint("legacy")?.filter == nil)
        let typed = SubscriptionFilter(typePrefix: "test.")
        let sub = try store.subscribe(consumer: "legacy", filter: typed)
        #expect(sub.startPosition == 2)
        #expect(try store.consumerCheckpoint("legacy")?.filter == typed, "adopted on first use")
        try await sub.close()
        #expect(Self.code { _ = try store.subscribe(consumer: "legacy") }.0 == .consumerFilterMismatch)
    }

    @Test func aHolderKilledWithSIGKILLIsTakenOverAtOnceOnItsHost() async throws {
        let path = SubKit.path()
        let store = try SubKit.open(path)
        try await store.append((0..<5).map { SubKit.event(n: $0) })
        let kit = try SubKit.testkit()
        let child = try SubKit.Child(kit, ["sub-follow", "--store", path, "--consumer", "alpha", "--until", "1000000"])
        #expect(child.waitFor(seconds: 30) { $0.lines.contains("p 5") }, "\(child.stderr)")
        let (code, message) = Self.code { _ = try store.subscribe(consumer: "alpha") }
        #expect(code == .consumerHeld)
        #expect(message.contains("pid \(child.process.processIdentifier) on "), "\(message)")
        child.kill(SIGKILL)
        child.wait()
        // The lease (15 s) has not expired, but its holder is known dead on this host.
        let started = ContinuousClock.now
        let sub = try store.subscribe(consumer: "alpha")
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(sub.lease?.pid == getpid())
        try await sub.close()
    }

    /// Writes `lease` into the store's `s/consumer_leases` table directly, as another process
    /// (on another host, or one that took the consumer over) would.
    static func forge(_ lease: ConsumerLease, at path: String) throws {
        let env = try Environment.open(path: path, configuration: .init(maxDatabases: 256, maxReaders: 1024, durability: .relaxed))
        let db: Database<RawBytes, RawBytes> = try #require(try env.openDatabase("s/" + ConsumerLease.tableName, create: false))
        let record = lease.record()
        try env.writeSync { txn in
            try Array(lease.consumer.utf8).withUnsafeBytes { k in try record.withUnsafeBytes { v in try txn.putRaw(db, k, v) } }
        }
    }

    static func foreignLease(_ consumer: String, expiringIn duration: Duration) -> ConsumerLease {
        let now = Timestamp.now()
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return ConsumerLease(consumer: consumer, holder: "forged", pid: 4242, host: "elsewhere.example", since: now, renewedAt: now,
                             expiresAt: Timestamp(millisecondsSinceEpoch: now.millisecondsSinceEpoch + ms), filter: .all)
    }

    @Test func aHolderOnAnotherHostIsTakenOverOnlyAfterItsLeaseExpires() async throws {
        let path = SubKit.path()
        let store = try SubKit.open(path)
        try await store.append((0..<3).map { SubKit.event(n: $0) })
        let forged = Self.foreignLease("alpha", expiringIn: .milliseconds(1500))
        try Self.forge(forged, at: path)
        let (code, message) = Self.code { _ = try store.subscribe(consumer: "alpha") }
        #expect(code == .consumerHeld)
        #expect(message.contains("held by pid 4242 on elsewhere.example since \(forged.since)"), "\(message)")
        var taken: EventSubscription?
        while taken == nil && Timestamp.now() < Timestamp(millisecondsSinceEpoch: forged.expiresAt.millisecondsSinceEpoch + 10_000) {
            do { taken = try store.subscribe(consumer: "alpha") } catch let e as EventLogError {
                #expect(e.code == .consumerHeld)
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let sub = try #require(taken, "not taken over within 10 s of the lease's expiry")
        #expect(Timestamp.now() >= forged.expiresAt, "taken over only once the lease expired")
        #expect(try store.consumerLease("alpha")?.holder == sub.lease?.holder)
        try await sub.close()
    }

    @Test func aSubscriptionWhoseLeaseWasTakenOverEndsAndCannotMoveTheCheckpoint() async throws {
        let path = SubKit.path()
        let store = try SubKit.open(path)
        try await store.append((0..<5).map { SubKit.event(n: $0) })
        let sub = try store.subscribe(consumer: "alpha", options: .init(flushInterval: .seconds(60), leaseDuration: .milliseconds(600)))
        #expect(try await SubKit.collect(sub, count: 5).count == 5)
        try sub.ack(3)
        try await sub.flush()
        // Renewals keep the short lease alive while the subscription runs.
        try await Task.sleep(for: .milliseconds(1500))
        #expect(try store.consumerLease("alpha")?.holder == sub.lease?.holder)

        // Another holder takes it over (as after this process stalled past the lease).
        try Self.forge(Self.foreignLease("alpha", expiringIn: .seconds(60)), at: path)
        try sub.ack(5)
        do {
            try await sub.flush()
            Issue.record("a checkpoint write without the lease was accepted")
        } catch let e as EventLogError {
            #expect(e.code == .consumerHeld && e.message.contains("taken over by pid 4242 on elsewhere.example"), "\(e.message)")
        }
        #expect(try store.consumerCheckpoint("alpha")?.acknowledged == 3)
        try await store.append([SubKit.event(n: 9)])
        let ended: EventLogError? = try await SubKit.collectWithin(seconds: 10) {
            do {
                for try await _ in sub {}
                return nil
            } catch let e as EventLogError { return e }
        }
        #expect(ended?.code == .consumerHeld, "iteration ends with the lost lease")
        try? await sub.close()
        #expect(try store.consumerLease("alpha")?.holder == "forged", "the new holder keeps its lease")
        #expect(try store.consumerCheckpoint("alpha")?.acknowledged == 3)
    }
}
