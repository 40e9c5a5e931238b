package import CanonicalJSON

/// `inventory.sync_run_started`: a run began.
package struct SyncRunStarted: Sendable, Hashable {
    package var runID: String
    package var selectionHash: String
    /// The normalized selection object.
    package var selection: JSONValue
    /// The registry keys the run will enumerate.
    package var resolvedTypes: [String]
    /// `graph` or `offline`.
    package var source: String
    package var correlationID: String

    package init(runID: String, selectionHash: String, selection: JSONValue, resolvedTypes: [String], source: String, correlationID: String) {
        self.runID = runID
        self.selectionHash = selectionHash
        self.selection = selection
        self.resolvedTypes = resolvedTypes
        self.source = source
        self.correlationID = correlationID
    }

    package var data: JSONValue {
        .object([
            "run_id": .string(runID), "selection_hash": .string(selectionHash), "selection": selection,
            "resolved_types": .array(resolvedTypes.map { .string($0) }), "source": .string(source),
            "correlation_id": .string(correlationID),
        ])
    }

    package init(data: JSONValue) throws(InventoryPayloadError) {
        let r = try PayloadReader(data, type: InventoryEventType.syncRunStarted)
        runID = try r.string("run_id")
        selectionHash = try r.string("selection_hash")
        guard let s = r.object["selection"], case .object = s else { throw InventoryPayloadError("sync_run_started: \"selection\" is not an object") }
        selection = s
        resolvedTypes = try r.strings("resolved_types")
        source = try r.string("source")
        correlationID = try r.string("correlation_id")
    }
}
