package import CanonicalJSON

/// How a run ended.
package enum SyncRunStatus: String, Sendable, Hashable, CaseIterable, Codable {
    /// Every type enumerated completely, no errors.
    case success
    /// Some types incomplete or some errors.
    case partial
    /// Nothing enumerated completely, or a fatal error.
    case failed
    /// Not run (lock held, concurrency limit).
    case skipped
    /// Started, not finished (only in the runs projection, never in an event).
    case running
}

/// `inventory.sync_run_finished`: a run ended (or was skipped, or was found abandoned).
package struct SyncRunFinished: Sendable, Hashable {
    package var runID: String
    package var selectionHash: String
    package var status: SyncRunStatus
    package var hadErrors: Bool
    package var observed: Int
    package var upserted: Int
    package var errors: Int
    package var errorCodes: [InventoryErrorCode]
    /// Redacted, bounded context for the errors.
    package var errorContext: [String]

    package init(runID: String, selectionHash: String, status: SyncRunStatus, hadErrors: Bool, observed: Int, upserted: Int,
                errors: Int, errorCodes: [InventoryErrorCode], errorContext: [String]) {
        self.runID = runID
        self.selectionHash = selectionHash
        self.status = status
        self.hadErrors = hadErrors
        self.observed = observed
        self.upserted = upserted
        self.errors = errors
        self.errorCodes = errorCodes
        self.errorContext = errorContext
    }

    package var data: JSONValue {
        .object([
            "run_id": .string(runID), "selection_hash": .string(selectionHash), "status": .string(status.rawValue),
            "had_errors": .bool(hadErrors),
            "counts": .object(["observed": .number(Double(observed)), "upserted": .number(Double(upserted)), "errors": .number(Double(errors))]),
            "error_codes": .array(errorCodes.map { .string($0.rawValue) }),
            "error_context": .array(errorContext.map { .string($0) }),
        ])
    }

    package init(data: JSONValue) throws(InventoryPayloadError) {
        let r = try PayloadReader(data, type: InventoryEventType.syncRunFinished)
        runID = try r.string("run_id")
        selectionHash = try r.string("selection_hash")
        guard let s = SyncRunStatus(rawValue: try r.string("status")), s != .running else {
            throw InventoryPayloadError("sync_run_finished: unknown status")
        }
        status = s
        hadErrors = try r.bool("had_errors")
        let counts = try PayloadReader(.object(try r.object("counts")), type: "sync_run_finished.counts")
        observed = try counts.int("observed")
        upserted = try counts.int("upserted")
        errors = try counts.int("errors")
        errorCodes = try r.strings("error_codes").map { InventoryErrorCode(rawValue: $0) ?? .internalError }
        errorContext = try r.strings("error_context")
    }
}
