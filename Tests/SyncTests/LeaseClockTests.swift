import CanonicalJSON
import EventLog
import Foundation
import Inventory
import Sync
import Testing

/// A process decides about its own run leases on the monotonic clock: the stored wall-clock
/// expiry (which other processes compare with their clocks) does not make its own live run
/// look dead after the wall clock jumps.
@Suite struct LeaseClockTests {
    /// A source that reads nothing until released.
    final class GatedSource: InventorySource, @unchecked Sendable {
        let kind = "offline"
        let secrets: [String] = []
        private let lock = NSLock()
        private var released = false
        private var entered = false

        var hasEntered: Bool { lock.withLock { entered } }
        func release() { lock.withLock { released = true } }

        func enumerate(tenant: String, types: [PolicyType], into sink: any SourceSink) async {
            lock.withLock { entered = true }
            while !lock.withLock({ released }) { try? await Task.sleep(for: .milliseconds(10)) }
            for t in types { await sink.finishType(t, complete: true, error: nil) }
        }
    }

    static let leases = StoreTable.state("run_leases")

    @Test func ownLiveRunSurvivesAWallClockJumpPastItsStoredExpiry() async throws {
        let path = NSTemporaryDirectory() + "atlas-lease-clock-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try LMDBEventStore.open(path: path, options: .init(create: true, projections: InventoryProjections.all,
                                                                        stateTables: SyncRunner.stateTables))
        let runner = SyncRunner(store: store, options: .init(leaseDuration: .seconds(60)))
        let source = GatedSource()
        let selection = try SelectionParser.parse(#"{"policy_types":["deviceConfiguration"]}"#).selection
        let run = Task { try await runner.run(tenant: "contoso", selection: selection, source: source) }
        while !source.hasEntered { try await Task.sleep(for: .milliseconds(10)) }

        // What the wall clock jumping forward by more than the lease looks like from here: the
        // stored expiry lies in the past.
        let past = Double(Timestamp.now().millisecondsSinceEpoch - 120_000)
        let rewritten = try await store.updateState { tables -> Int in
            var records: [([UInt8], JSONValue)] = []
            try tables.scan(Self.leases, prefix: []) { k, v in
                guard case .object(var o) = try JSONParser().parse(v) else { return true }
                o["expires_at"] = .number(past)
                o["heartbeat_at"] = .number(past - 60_000)
                records.append((Array(k), .object(o)))
                return true
            }
            for (k, v) in records { try tables.put(Self.leases, k, try CanonicalJSON.serialize(v)) }
            return records.count
        }
        #expect(rewritten == 2, "the run's lock and slot")

        // This process looks for dead runs: its own live run is not one.
        try await runner.reclaimDeadRuns()
        source.release()
        let summary = try await run.value
        #expect(summary.status == .success, "\(summary)")
        #expect(!summary.errorCodes.contains(.abandoned))
        let runs = try InventoryQueries(store: store).runs(tenant: "contoso")
        #expect(runs.count == 1)
        #expect(runs.first?.status == .success)
    }
}
