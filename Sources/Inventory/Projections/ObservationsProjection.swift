import EventLog

/// Per-selection observation index: for tenant + selection hash + item, the runs of that
/// selection that last observed it (newest first, at most three 16-byte run ids).
///
/// Only runs of the same selection touch an entry, so runs of other selections never change
/// what is missing for this one.
public struct ObservationsProjection: Projection {
    public let name = "selection_observations"
    public let version = 1
    public let tableNames = ["observations"]
    public var consumedEventTypes: Set<String>? { [InventoryEventType.itemObserved] }
    public init() {}

    static let table = StoreTable.projection("selection_observations", "observations")
    static let depth = 3

    public func prepare(_ event: ProjectionEvent) {
        guard event.type == InventoryEventType.itemObserved else { return }
        _ = event.memoized { ItemObserved.IndexFields(event.data) }
    }

    public func apply(_ event: ProjectionEvent, to tables: any KeyValueWriter) throws {
        guard event.type == InventoryEventType.itemObserved else { return }
        guard let f = event.memoized({ ItemObserved.IndexFields(event.data) }), let runID = f.runID,
              let selection = f.selectionHash else {
            throw InventoryPayloadError("item_observed at \(event.position) lacks policy_type, external_id, run_id or selection_hash")
        }
        let key = InventoryKeys.observation(event.tenant, selection, typeAndID: f.typeAndID)
        try tables.update(Self.table, key) { old in
            var value = Array(runID)
            guard let old else { return value }
            value.reserveCapacity(16 * Self.depth)
            var i = 0
            while i + 16 <= old.count && value.count < 16 * Self.depth {
                let r = old[i..<i + 16]
                if !r.elementsEqual(runID) { value += r }
                i += 16
            }
            return value
        }
    }
}
