import CanonicalJSON
import Inventory

/// What one run did, as `atlas sync --json` prints it.
public struct SyncSummary: Sendable, Hashable {
    public var tenant: String
    public var runID: String
    public var status: SyncRunStatus
    public var selectionHash: String
    public var observed: Int
    public var upserted: Int
    public var errors: Int
    public var errorCodes: [InventoryErrorCode]
    public var types: [String: SyncRun.TypeOutcome]

    public var json: JSONValue {
        .object([
            "run_id": .string(runID), "status": .string(status.rawValue), "selection_hash": .string(selectionHash),
            "observed": .number(Double(observed)), "upserted": .number(Double(upserted)),
            "errors": .number(Double(errors)), "error_codes": .array(errorCodes.map { .string($0.rawValue) }),
        ])
    }
}
