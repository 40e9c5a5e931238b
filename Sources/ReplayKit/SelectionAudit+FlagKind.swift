extension SelectionAudit.Flag {
    /// What a ``SelectionAudit/Flag`` is about; the raw value is the `kind` of the JSON and
    /// text reports.
    package enum Kind: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
        /// A run event's payload cannot be decoded.
        case payload
        /// A run's stored selection hash differs from the one recomputed from its selection.
        case selectionHash = "selection_hash"
        /// A run's stored selection is not accepted by today's parser.
        case selectionUnparseable = "selection_unparseable"
        /// An observation belongs to a run with no `sync_run_started` before it.
        case unknownRun = "unknown_run"
        /// An observation's selection hash differs from its run's.
        case selectionHashOfObservation = "selection_hash_of_observation"
        /// An observation's type is outside its run's selection.
        case outsideSelection = "outside_selection"
        /// An observation's type is outside its run's resolved types.
        case outsideResolvedTypes = "outside_resolved_types"
        /// The independent missing/unknown answer differs from `InventoryQueries.missing`.
        case missingDiffers = "missing_differs"

        package var description: String { rawValue }
    }
}
