import CanonicalJSON
import EventLog

/// A row of the sync-run table.
public struct SyncRun: Sendable, Hashable {
    /// How one policy type was enumerated.
    public struct TypeOutcome: Sendable, Hashable {
        public var complete: Bool
        public var count: Int
        public var errorCode: InventoryErrorCode?

        public init(complete: Bool, count: Int, errorCode: InventoryErrorCode?) {
            self.complete = complete
            self.count = count
            self.errorCode = errorCode
        }
    }

    public var runID: String
    public var tenant: String
    public var selectionHash: String
    public var selection: JSONValue
    public var resolvedTypes: [String]
    public var source: String
    public var correlationID: String?
    public var status: SyncRunStatus
    public var hadErrors: Bool
    public var startedAt: Timestamp?
    public var finishedAt: Timestamp?
    public var startedPosition: UInt64?
    public var finishedPosition: UInt64?
    public var observed: Int
    public var upserted: Int
    public var errors: Int
    public var errorCodes: [InventoryErrorCode]
    public var errorContext: [String]
    public var types: [String: TypeOutcome]

    /// A completed run ended with success, partial, failed or skipped.
    public var isCompleted: Bool { status != .running }

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
    public var json: JSONValue {
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
