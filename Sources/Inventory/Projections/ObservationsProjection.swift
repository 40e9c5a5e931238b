package import EventLog
import Foundation

/// Per-selection observation index: for tenant + selection hash + item, the runs of that
/// selection that last observed it (newest first, at most three), and an index of the items by
/// those runs.
///
/// Table `observations`: tenant ‖ 0 ‖ selection hash ‖ policy type ‖ 0 ‖ external id →
/// ``ObservationRow`` (entry number ‖ run ids). Table `by_last_runs`: ``LastRunsKey`` (tenant ‖ 0
/// ‖ selection hash ‖ newest run ‖ run before it ‖ entry number) → policy type ‖ 0 ‖ external id,
/// one entry per `observations` row, so `missing` reads only the items the latest completed run
/// did not see.
///
/// Only runs of the same selection touch an entry, so runs of other selections never change
/// what is missing for this one.
package struct ObservationsProjection: Projection {
    // Computed, not stored: the store copies projections as existentials for every event,
    // and an empty struct copies without reference counting.
    package var name: String { "selection_observations" }
    package var version: Int { 2 }
    package var tableNames: [String] { ["observations", "by_last_runs"] }
    package var consumedEventTypes: Set<String>? { [InventoryEventType.itemObserved] }
    package init() {}

    static let table = StoreTable.projection("selection_observations", "observations")
    static let byLastRuns = StoreTable.projection("selection_observations", "by_last_runs")

    package func prepare(_ event: ProjectionEvent) {
        guard event.type == InventoryEventType.itemObserved else { return }
        _ = ItemObserved.IndexFields.of(event)
    }

    package func apply(_ event: ProjectionEvent, to tables: any KeyValueWriter) throws {
        guard event.type == InventoryEventType.itemObserved else { return }
        guard let f = ItemObserved.IndexFields.of(event), let runID = f.runID,
              let selection = f.selectionHash else {
            throw InventoryPayloadError("item_observed at \(event.position) lacks policy_type, external_id, run_id or selection_hash")
        }
        // What the row held before (set by the closure that ran last): its entry and its two
        // newest runs, or nil for a new row; whether the run was already the newest.
        var entry = event.position
        var before: (newest: [UInt8], previous: [UInt8]?)?
        var unchanged = false
        try runID.withUnsafeBytes { run in
            try InventoryKeys.withObservationKey(event.tenant, selection, typeAndID: f.typeAndID) { key in
                try tables.upsert(Self.table, key: key, size: ObservationRow.firstSize, insert: { v in
                    entry = event.position
                    before = nil
                    unchanged = false
                    ObservationRow.writeFirst(into: v, entry: entry, runID: run)
                }, update: { value in
                    guard let old = value, old.withUnsafeBytes(ObservationRow.isValid) else {
                        throw InventoryPayloadError("observations row of \(event.tenant) has \(value?.count ?? 0) bytes, not an entry and 1-\(ObservationRow.depth) run ids")
                    }
                    old.withUnsafeBytes { o in
                        entry = ObservationRow.entry(o)
                        before = (Array(ObservationRow.run(o, 0)), ObservationRow.runCount(o) > 1 ? Array(ObservationRow.run(o, 1)) : nil)
                        unchanged = ObservationRow.run(o, 0, is: run)
                    }
                    if !unchanged { ObservationRow.observe(&value!, runID: run) }
                })
            }
            // The run was already the newest: the row's two newest runs, and its index entry,
            // stay as they were.
            if unchanged { return }
            if let before {
                try tables.delete(Self.byLastRuns, LastRunsKey.key(event.tenant, selection, newest: before.newest, previous: before.previous, entry: entry))
            }
            try tables.put(Self.byLastRuns, LastRunsKey.key(event.tenant, selection, newest: run, previous: before?.newest, entry: entry),
                           Array(f.typeAndID))
        }
    }
}
