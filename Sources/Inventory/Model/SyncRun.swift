package import CanonicalJSON
package import EventLog

/// A row of the sync-run table.
package struct SyncRun: Sendable, Hashable {
    /// How one policy type was enumerated.
    package struct TypeOutcome: Sendable, Hashable {
        package var complete: Bool
        package var count: Int
        package var errorCode: InventoryErrorCode?

        package init(complete: Bool, count: Int, errorCode: InventoryErrorCode?) {
            self.complete = complete
            self.count = count
            self.errorCode = errorCode
        }
    }

    package var runID: String
    package var tenant: String
    package var selectionHash: String
    package var selection: JSONValue
    package var resolvedTypes: [String]
    package var source: String
    package var correlationID: String?
    package var status: SyncRunStatus
    package var hadErrors: Bool
    package var startedAt: Timestamp?
    package var finishedAt: Timestamp?
    package var startedPosition: UInt64?
    package var finishedPosition: UInt64?
    package var observed: Int
    package var upserted: Int
    package var errors: Int
    package var errorCodes: [InventoryErrorCode]
    package var errorContext: [String]
    package var types: [String: TypeOutcome]

    /// A completed run ended with success, partial, failed or skipped.
    package var isCompleted: Bool { status != .running }

    init(runID: String, tenant: String, selectionHash: String) {
        self.runID = runID
        self.tenant = tenant
        self.selectionHash = selectionHash
        selection = .null
        resolvedTypes = []
        source = ""
        status = .running
        hadErrors = false
        observed = 0
        upserted = 0
        errors = 0
        errorCodes = []
        errorContext = []
        types = [:]
    }

    /// The row as JSON (snake_case keys), as `atlas runs --json` prints it.
    package var json: JSONValue {
        var typeObjects: [String: JSONValue] = [:]
        for (k, t) in types {
            typeObjects[k] = .object(["complete": .bool(t.complete), "count": .number(Double(t.count)),
                                      "error_code": t.errorCode.map { .string($0.rawValue) } ?? .null])
        }
        func ts(_ t: Timestamp?) -> JSONValue { t.map { .string($0.description) } ?? .null }
        func pos(_ p: UInt64?) -> JSONValue { p.map { .number(Double($0)) } ?? .null }
        return .object([
            "run_id": .string(runID), "tenant": .string(tenant), "selection_hash": .string(selectionHash),
            "selection": selection, "resolved_types": .array(resolvedTypes.map { .string($0) }), "source": .string(source),
            "correlation_id": correlationID.map { .string($0) } ?? .null, "status": .string(status.rawValue),
            "had_errors": .bool(hadErrors), "started_at": ts(startedAt), "finished_at": ts(finishedAt),
            "started_position": pos(startedPosition), "finished_position": pos(finishedPosition),
            "counts": .object(["observed": .number(Double(observed)), "upserted": .number(Double(upserted)), "errors": .number(Double(errors))]),
            "error_codes": .array(errorCodes.map { .string($0.rawValue) }),
            "error_context": .array(errorContext.map { .string($0) }),
            "types": .object(typeObjects),
        ])
    }

    init(json v: JSONValue) throws(InventoryPayloadError) {
        let r = try PayloadReader(v, type: "sync run row")
        self.init(runID: try r.string("run_id"), tenant: try r.string("tenant"), selectionHash: try r.string("selection_hash"))
        selection = r.object["selection"] ?? .null
        resolvedTypes = try r.strings("resolved_types")
        source = try r.string("source")
        correlationID = try r.optionalString("correlation_id")
        status = SyncRunStatus(rawValue: try r.string("status")) ?? .failed
        hadErrors = try r.bool("had_errors")
        startedAt = try r.optionalString("started_at").flatMap(Timestamp.init(rfc3339:))
        finishedAt = try r.optionalString("finished_at").flatMap(Timestamp.init(rfc3339:))
        startedPosition = r.object["started_position"]?.int64Value.map { UInt64($0) }
        finishedPosition = r.object["finished_position"]?.int64Value.map { UInt64($0) }
        let counts = try PayloadReader(.object(try r.object("counts")), type: "sync run counts")
        observed = try counts.int("observed")
        upserted = try counts.int("upserted")
        errors = try counts.int("errors")
        errorCodes = try r.strings("error_codes").map { InventoryErrorCode(rawValue: $0) ?? .internalError }
        errorContext = try r.strings("error_context")
        for (k, t) in try r.object("types") {
            let tr = try PayloadReader(t, type: "sync run type")
            types[k] = TypeOutcome(complete: try tr.bool("complete"), count: try tr.int("count"),
                                   errorCode: try tr.optionalString("error_code").map { InventoryErrorCode(rawValue: $0) ?? .internalError })
        }
    }
}
