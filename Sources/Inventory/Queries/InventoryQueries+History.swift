import CanonicalJSON
import EventLog
import Foundation

extension InventoryQueries {
    /// The item's history across every finished run of `tenant` (any selection) whose resolved
    /// types include `policyType` (see ``ItemHistory``).
    ///
    /// Cost: the runs come from the runs projection; the observations from the log, reading only
    /// the tenant's events (through the tenant index) between the start of the first such run
    /// and the finish of the last, and decoding only those whose bytes name the external id. So
    /// it is proportional to the tenant's share of the log, not to the whole log.
    package func history(tenant: String, policyType: String, externalID: String) throws -> ItemHistory {
        let runs = try finishedRuns(tenant: tenant).filter { $0.resolvedTypes.contains(policyType) }
        var observed: [String: ItemObserved] = [:]
        if let start = runs.compactMap(\.startedPosition).min(), let end = runs.compactMap(\.finishedPosition).max() {
            let needle = try Array("\"external_id\":".utf8) + CanonicalJSON.serialize(.string(externalID))
            try forEachObservation(tenant: tenant, from: start, through: end, containing: needle) { o in
                if o.policyType == policyType && o.externalID == externalID { observed[o.runID] = o }
            }
        }
        let verdicts = runs.map { (run: $0, observation: observed[$0.runID]) }
        return ItemHistory(tenant: tenant, policyType: policyType, externalID: externalID,
                           entries: ItemHistory.entries(verdicts, policyType: policyType))
    }

    /// The tenant's finished runs (every status but `running`), in log order of their finish.
    func finishedRuns(tenant: String) throws -> [SyncRun] {
        try runs(tenant: tenant).filter { $0.isCompleted && $0.finishedPosition != nil }
            .sorted { $0.finishedPosition! < $1.finishedPosition! }
    }

    /// Calls `body` with every `inventory.item_observed` event of `tenant` at positions
    /// `start...end`, in log order, read through the tenant index in batches (one short read
    /// transaction each). With `needle`, events whose stored bytes do not contain it are
    /// skipped without being decoded.
    func forEachObservation(tenant: String, from start: UInt64, through end: UInt64, containing needle: [UInt8]? = nil,
                            _ body: (ItemObserved) throws -> Void) throws {
        var after = start > 0 ? start - 1 : 0
        let marker = Array("\"type\":\"\(InventoryEventType.itemObserved)\"".utf8)
        while after < end {
            let positions = try store.tenantPositions(tenant, after: after, limit: 4096).filter { $0 <= end }
            guard let last = positions.last else { return }
            let raws = try store.read { r in try positions.compactMap { try r.rawEvent(at: $0) } }
            for raw in raws {
                guard Self.contains(raw.json, marker), needle.map({ Self.contains(raw.json, $0) }) ?? true else { continue }
                let e = try raw.decode().envelope
                guard e.type == InventoryEventType.itemObserved, e.tenant == tenant else { continue }
                try body(try ItemObserved(data: e.data))
            }
            after = last
        }
    }

    /// Whether `needle` occurs in `haystack`: `memchr` finds each candidate first byte, `memcmp`
    /// checks the rest (both in libc, so the scan costs little per event).
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        guard haystack.count >= needle.count else { return false }
        return haystack.withUnsafeBytes { h in
            needle.withUnsafeBytes { n in
                let base = h.baseAddress!
                let lastStart = h.count - n.count
                var offset = 0
                while offset <= lastStart {
                    guard let hit = memchr(base + offset, Int32(first), lastStart - offset + 1) else { return false }
                    let at = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(base + at, n.baseAddress!, n.count) == 0 { return true }
                    offset = at + 1
                }
                return false
            }
        }
    }
}
