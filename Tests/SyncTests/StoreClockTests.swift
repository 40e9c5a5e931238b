import CanonicalJSON
import EventLog
import Foundation
import Inventory
import Sync
import Testing

/// Run leases and limiter slots take their time from the store's clock
/// (``KeyValueReader/storeTime``), which a backend shared by many hosts takes from its server.
@Suite struct StoreClockTests {
    /// Table access whose store clock runs `shift` milliseconds ahead of this host's.
    struct ShiftedReader: KeyValueReader {
        let base: any KeyValueReader
        let shift: Int64
        func withValue<R>(_ table: StoreTable, _ key: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
            try base.withValue(table, key, body)
        }
        func scan(_ table: StoreTable, prefix: [UInt8], from start: [UInt8]?, reverse: Bool,
                  _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
            try base.scan(table, prefix: prefix, from: start, reverse: reverse, body)
        }
        func count(_ table: StoreTable) throws -> Int { try base.count(table) }
        func rawEvent(at position: UInt64) throws -> RawEvent? { try base.rawEvent(at: position) }
        var storeTime: Timestamp { Timestamp(millisecondsSinceEpoch: base.storeTime.millisecondsSinceEpoch + shift) }
    }

    struct ShiftedWriter: KeyValueWriter {
        let base: any KeyValueWriter
        let shift: Int64
        var reader: ShiftedReader { ShiftedReader(base: base, shift: shift) }
        func withValue<R>(_ table: StoreTable, _ key: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
            try base.withValue(table, key, body)
        }
        func scan(_ table: StoreTable, prefix: [UInt8], from start: [UInt8]?, reverse: Bool,
                  _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
            try base.scan(table, prefix: prefix, from: start, reverse: reverse, body)
        }
        func count(_ table: StoreTable) throws -> Int { try base.count(table) }
        func rawEvent(at position: UInt64) throws -> RawEvent? { try base.rawEvent(at: position) }
        var storeTime: Timestamp { reader.storeTime }
        func put(_ table: StoreTable, _ key: [UInt8], _ value: [UInt8]) throws { try base.put(table, key, value) }
        func delete(_ table: StoreTable, _ key: [UInt8]) throws -> Bool { try base.delete(table, key) }
        func update(_ table: StoreTable, key: UnsafeRawBufferPointer, _ body: (inout [UInt8]?) throws -> Void) throws {
            try base.update(table, key: key, body)
        }
        func upsert(_ table: StoreTable, key: UnsafeRawBufferPointer, size: Int,
                    insert: (UnsafeMutableRawBufferPointer) throws -> Void, update: (inout [UInt8]?) throws -> Void) throws {
            try base.upsert(table, key: key, size: size, insert: insert, update: update)
        }
        func tally(_ name: StaticString, _ n: Int) { base.tally(name, n) }
    }

    /// An LMDB store seen through a clock `shift` milliseconds ahead: what a writer on a host
    /// whose clock lags the database server's sees.
    final class ShiftedClockStore: EventStore {
        let base: LMDBEventStore
        let shift: Int64
        init(_ base: LMDBEventStore, shift: Int64) {
            self.base = base
            self.shift = shift
        }

        func append(encoded events: [EncodedEvent], precondition: (@Sendable (any KeyValueWriter) throws -> Void)?) async throws -> AppendResult {
            let shift = self.shift
            return try await base.append(encoded: events, precondition: precondition.map { p in
                { @Sendable tables in try p(ShiftedWriter(base: tables, shift: shift)) }
            })
        }
        func updateState<R: Sendable>(_ body: @escaping @Sendable (any KeyValueWriter) throws -> R) async throws -> R {
            let shift = self.shift
            return try await base.updateState { tables in try body(ShiftedWriter(base: tables, shift: shift)) }
        }
        func read<R>(_ body: (any KeyValueReader) throws -> R) throws -> R {
            try base.read { try body(ShiftedReader(base: $0, shift: shift)) }
        }
        func head() throws -> LogHead { try base.head() }
        func rawEvents(from position: UInt64, limit: Int) throws -> [RawEvent] { try base.rawEvents(from: position, limit: limit) }
        func tenantPositions(_ tenant: String, after position: UInt64, limit: Int) throws -> [UInt64] {
            try base.tenantPositions(tenant, after: position, limit: limit)
        }
        func position(of id: EventID) throws -> UInt64? { try base.position(of: id) }
        func projectionStatus() throws -> [ProjectionStatus] { try base.projectionStatus() }
        func rebuildProjections(named names: [String]?, progress: (@Sendable (UInt64, UInt64) -> Void)?) async throws {
            try await base.rebuildProjections(named: names, progress: progress)
        }
        var location: String { base.location }
        var readsWaitForServer: Bool { base.readsWaitForServer }
        var isReadOnly: Bool { base.isReadOnly }
        var formatVersion: Int { base.formatVersion }
        func metadata() throws -> [String: String] { try base.metadata() }
        func tenants() throws -> [String] { try base.tenants() }
        func staleProjections() throws -> [StaleProjection] { try base.staleProjections() }
        func appendVerbatim(_ events: [RawEvent]) async throws { try await base.appendVerbatim(events) }
        func rawEntries(_ table: LogTable, after key: [UInt8]?, limit: Int) throws -> [RawTableEntry] {
            try base.rawEntries(table, after: key, limit: limit)
        }
        func consumerCheckpoint(_ name: String) throws -> ConsumerCheckpoint? { try base.consumerCheckpoint(name) }
        func consumers() throws -> [ConsumerCheckpoint] { try base.consumers() }
        func setConsumerCheckpoint(_ name: String, to position: UInt64) async throws -> ConsumerCheckpoint {
            try await base.setConsumerCheckpoint(name, to: position)
        }
        func removeConsumer(_ name: String) async throws -> Bool { try await base.removeConsumer(name) }
        func consumerLeases() throws -> [ConsumerLease] { try base.consumerLeases() }
        func consumerLease(_ name: String) throws -> ConsumerLease? { try base.consumerLease(name) }
        func subscribe(after position: UInt64, filter: SubscriptionFilter, options: SubscriptionOptions) throws -> EventSubscription {
            try base.subscribe(after: position, filter: filter, options: options)
        }
        func subscribe(consumer name: String, filter: SubscriptionFilter, startingAfter: UInt64, reset: Bool,
                       options: SubscriptionOptions) throws -> EventSubscription {
            try base.subscribe(consumer: name, filter: filter, startingAfter: startingAfter, reset: reset, options: options)
        }
    }

    /// The run's lock and slot, as stored: (heartbeat_at, expires_at) of each.
    static func storedLeases(_ store: LMDBEventStore) throws -> [(Int64, Int64)] {
        try store.read { tables in
            var out: [(Int64, Int64)] = []
            try tables.scan(StoreTable.state("run_leases"), prefix: []) { _, v in
                let o = try JSONParser().parse(v)
                if let hb = o["heartbeat_at"]?.int64Value, let exp = o["expires_at"]?.int64Value { out.append((hb, exp)) }
                return true
            }
            return out
        }
    }

    @Test func runLeasesAndSlotsUseTheStoresClock() async throws {
        let path = NSTemporaryDirectory() + "atlas-store-clock-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let lmdb = try LMDBEventStore.open(path: path, options: .init(create: true, projections: InventoryProjections.all,
                                                                       stateTables: SyncRunner.stateTables))
        let hour: Int64 = 3_600_000
        let store = ShiftedClockStore(lmdb, shift: hour)
        let runner = SyncRunner(store: store, options: .init(leaseDuration: .seconds(60)))
        let source = LeaseClockTests.GatedSource()
        let selection = try SelectionParser.parse(#"{"policy_types":["deviceConfiguration"]}"#).selection
        let before = Timestamp.now().millisecondsSinceEpoch
        let run = Task { try await runner.run(tenant: "contoso", selection: selection, source: source) }
        while !source.hasEntered { try await Task.sleep(for: .milliseconds(10)) }
        let after = Timestamp.now().millisecondsSinceEpoch

        // The lock and the slot: heartbeat and expiry from the store's clock, an hour ahead.
        let leases = try Self.storedLeases(lmdb)
        #expect(leases.count == 2, "the run's lock and slot")
        for (heartbeat, expires) in leases {
            #expect((before + hour...after + hour).contains(heartbeat), "heartbeat \(heartbeat), this host's clock \(before)…\(after)")
            #expect(expires == heartbeat + 60_000)
        }
        // A process on this host's clock sees a lease that is live for another hour; the
        // shifted store's own reclaim does not take the live run either.
        try await runner.reclaimDeadRuns()
        source.release()
        let summary = try await run.value
        #expect(summary.status == .success, "\(summary)")
        #expect(try Self.storedLeases(lmdb).isEmpty, "released at the end of the run")
    }
}
