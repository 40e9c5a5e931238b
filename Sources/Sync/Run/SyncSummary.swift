package import CanonicalJSON
package import Inventory

/// What one run did, as `atlas sync --json` prints it.
package struct SyncSummary: Sendable, Hashable {
    package var tenant: String
    package var runID: String
    package var status: SyncRunStatus
    package var selectionHash: String
    package var observed: Int
    package var upserted: Int
    package var errors: Int
    package var errorCodes: [InventoryErrorCode]
    package var types: [String: SyncRun.TypeOutcome]
    /// Requests repeated after a throttled, unavailable or failed attempt (0 for offline runs).
    package var retries: Int = 0
    /// Seconds spent waiting on throttling (429) and unavailability (503) answers before a retry.
    package var throttledSeconds: Double = 0
    /// Wall-clock seconds from the run's start (including its wait for a turn) to its end.
    package var durationSeconds: Double = 0

    package var json: JSONValue {
        .object([
            "run_id": .string(runID), "status": .string(status.rawValue), "selection_hash": .string(selectionHash),
            "observed": .number(Double(observed)), "upserted": .number(Double(upserted)),
            "errors": .number(Double(errors)), "error_codes": .array(errorCodes.map { .string($0.rawValue) }),
            "retries": .number(Double(retries)), "throttled_seconds": .number(Self.milliseconds(throttledSeconds)),
            "duration_seconds": .number(Self.milliseconds(durationSeconds)),
        ])
    }

    /// `seconds` rounded to the millisecond, for display.
    static func milliseconds(_ seconds: Double) -> Double {
        (seconds * 1000).rounded() / 1000
    }
}
