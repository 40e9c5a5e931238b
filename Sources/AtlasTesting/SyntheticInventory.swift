import CanonicalJSON
import Crypto
package import EventLog
import Foundation
package import Inventory

/// Builds realistic inventory logs for tests and benchmarks: sync runs of several tenants, each
/// a `sync_run_started`, `item_observed` per item, `policy_type_enumerated` per type and a
/// `sync_run_finished`. Between runs some items vanish, come back or change content.
package struct SyntheticInventory: Sendable {
    /// The tenants runs are generated for.
    package var tenants: [String]
    /// The selection every run syncs.
    package var selection: Selection
    /// Items per policy type and run (some are left out of some runs).
    package var itemsPerType: Int
    /// `recorded_at` of the first event; each later event is 1 ms later.
    package var start: Timestamp
    /// Events generated so far (the clock, in milliseconds after ``start``).
    package private(set) var clock: Int64 = 0
    /// Runs generated so far.
    package private(set) var runs = 0

    /// A generator of runs of `tenants` for `selection`, `itemsPerType` items per type.
    package init(tenants: [String], selection: Selection = Selection(policyTypes: ["deviceConfiguration", "deviceCompliancePolicy", "settingsCatalogPolicy"]),
                itemsPerType: Int, start: Timestamp = Timestamp(millisecondsSinceEpoch: 1_735_689_600_000)) {
        self.tenants = tenants
        self.selection = selection
        self.itemsPerType = itemsPerType
        self.start = start
    }

    /// Events one run contributes: started + types × (items + enumerated) + finished.
    package var eventsPerRun: Int { 2 + selection.resolvedTypes.count * (itemsPerType + 1) }

    mutating func now() -> Timestamp {
        clock += 1
        return Timestamp(millisecondsSinceEpoch: start.millisecondsSinceEpoch + clock)
    }

    /// The events of the next run of `tenant` (run number `runs`).
    package mutating func nextRun(tenant: String, status: SyncRunStatus = .success, incompleteTypes: Set<String> = []) -> [EventEnvelope] {
        let r = runs
        runs += 1
        let runID = EventID.generate(now: start).description
        let hash = selection.hash
        let types = selection.resolvedTypes
        var out: [EventEnvelope] = []
        out.reserveCapacity(eventsPerRun)
        out.append(EventEnvelope(type: InventoryEventType.syncRunStarted, tenant: tenant, recordedAt: now(), correlationID: runID,
                                 data: SyncRunStarted(runID: runID, selectionHash: hash, selection: selection.json,
                                                      resolvedTypes: types.map(\.key), source: "offline", correlationID: runID).data))
        var observed = 0
        for type in types {
            var count = 0
            for i in 0..<itemsPerType {
                // Every 13th item is absent from every 5th run; every 7th item changes every run.
                if i % 13 == 5 && r % 5 == 4 { continue }
                let id = Self.guid(i, type.key)
                let version = i % 7 == 0 ? r : 1
                let sha = Hex.encode(Array(SHA256.hash(data: Array("\(tenant)/\(type.key)/\(id)/\(version)".utf8))))
                let meta: [String: JSONValue] = [
                    "odata_type": .string("#microsoft.graph.windows10GeneralConfiguration"),
                    "version": .number(Double(version)),
                    "created_at": .string("2024-03-01T10:00:00Z"),
                    "modified_at": .string("2025-01-\(10 + version % 18)T08:30:00Z"),
                    "scope_tag_ids": .array([.string("0"), .string("\(i % 4)")]),
                ]
                let item = ItemObserved(runID: runID, selectionHash: hash, policyType: type.key, externalID: id,
                                        displayName: "\(type.key) policy \(i) — baseline \(i % 11)", category: type.category.rawValue,
                                        platform: type.platform(of: .object(["@odata.type": "#microsoft.graph.windows10GeneralConfiguration"])),
                                        meta: meta, contentSHA256: sha, droppedMetaKeys: 12)
                out.append(EventEnvelope(type: InventoryEventType.itemObserved, tenant: tenant, recordedAt: now(), correlationID: runID, data: item.data))
                count += 1
            }
            observed += count
            out.append(EventEnvelope(type: InventoryEventType.policyTypeEnumerated, tenant: tenant, recordedAt: now(), correlationID: runID,
                                     data: PolicyTypeEnumerated(runID: runID, selectionHash: hash, policyType: type.key,
                                                                complete: !incompleteTypes.contains(type.key), count: count, errorCode: nil).data))
        }
        out.append(EventEnvelope(type: InventoryEventType.syncRunFinished, tenant: tenant, recordedAt: now(), correlationID: runID,
                                 data: SyncRunFinished(runID: runID, selectionHash: hash, status: status, hadErrors: status != .success,
                                                       observed: observed, upserted: observed, errors: 0, errorCodes: [], errorContext: []).data))
        return out
    }

    static func guid(_ i: Int, _ type: String) -> String {
        func hex(_ v: UInt64, _ width: Int) -> String {
            let h = String(v, radix: 16)
            return String(repeating: "0", count: max(0, width - h.count)) + h
        }
        let t = UInt64(truncatingIfNeeded: type.utf8.reduce(5381) { ($0 &* 33) &+ Int($1) })
        let x = UInt64(i) &* 0x9E37_79B9_7F4A_7C15 ^ t
        return "\(hex(UInt64(i), 8))-\(hex(x >> 48, 4))-4\(hex((x >> 36) & 0xFFF, 3))-8\(hex((x >> 24) & 0xFFF, 3))-\(hex(x & 0xFFFF_FFFF_FFFF, 12))"
    }

    /// Appends runs round-robin over the tenants until the log has at least `events` events,
    /// in batches of about `batch` events. Returns the head.
    @discardableResult
    package mutating func populate(_ store: LMDBEventStore, events target: Int, batch: Int = 10_000,
                                  progress: ((UInt64) -> Void)? = nil) async throws -> LogHead {
        var head = try store.head()
        var pending: [EventEnvelope] = []
        var t = 0
        while head.position + UInt64(pending.count) < UInt64(target) {
            pending += nextRun(tenant: tenants[t % tenants.count])
            t += 1
            if pending.count >= batch {
                head = try await store.append(pending).head
                pending.removeAll(keepingCapacity: true)
                progress?(head.position)
            }
        }
        if !pending.isEmpty { head = try await store.append(pending).head }
        return head
    }
}
