import EventLog
import Foundation

/// Per-selection observation index: for tenant + selection hash + item, the runs of that
/// selection that last observed it (newest first, at most three 16-byte run ids).
///
/// Only runs of the same selection touch an entry, so runs of other selections never change
/// what is missing for this one.
public struct ObservationsProjection: Projection {
    // Computed, not stored: the store copies projections as existentials for every event,
    // and an empty struct copies without reference counting.
    public var name: String { "selection_observations" }
    public var version: Int { 1 }
    public var tableNames: [String] { ["observations"] }
    public var consumedEventTypes: Set<String>? { [InventoryEventType.itemObserved] }
    public init() {}

    static let table = StoreTable.projection("selection_observations", "observations")
    static let depth = 3

    public func prepare(_ event: ProjectionEvent) {
        guard event.type == InventoryEventType.itemObserved else { return }
        _ = ItemObserved.IndexFields.of(event)
    }

    public func apply(_ event: ProjectionEvent, to tables: any KeyValueWriter) throws {
        guard event.type == InventoryEventType.itemObserved else { return }
        guard let f = ItemObserved.IndexFields.of(event), let runID = f.runID,
              let selection = f.selectionHash else {
            throw InventoryPayloadError("item_observed at \(event.position) lacks policy_type, external_id, run_id or selection_hash")
        }
        try InventoryKeys.withObservationKey(event.tenant, selection, typeAndID: f.typeAndID) { key in
            try tables.upsert(Self.table, key: key, size: 16, insert: { v in
                runID.withUnsafeBytes { v.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: 16) }
            }, update: { value in
                // runID, then the older runs but runID, newest first, at most `depth` in all;
                // written over the old value in place.
                withUnsafeTemporaryAllocation(byteCount: 16 * Self.depth, alignment: 8) { new in
                    var n = 0
                    runID.withUnsafeBytes { r in
                        new.baseAddress!.copyMemory(from: r.baseAddress!, byteCount: 16)
                        n = 16
                        value!.withUnsafeBytes { old in
                            var i = 0
                            while i + 16 <= old.count && n < 16 * Self.depth {
                                if memcmp(old.baseAddress! + i, r.baseAddress!, 16) != 0 {
                                    (new.baseAddress! + n).copyMemory(from: old.baseAddress! + i, byteCount: 16)
                                    n += 16
                                }
                                i += 16
                            }
                        }
                    }
                    value!.replaceSubrange(0..<value!.count, with: UnsafeRawBufferPointer(rebasing: new[0..<n]))
                }
            })
        }
    }
}
