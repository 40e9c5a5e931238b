import CanonicalJSON
import EventLog

/// The sync-run table and the index of completed runs per tenant + selection.
///
/// Table `runs`: tenant ‖ 0 ‖ 16-byte run id → canonical JSON of ``SyncRun``.
/// Table `completed`: tenant ‖ 0 ‖ 32-byte selection hash ‖ 8-byte BE position of the finish
/// event → 16-byte run id; its last entry under a prefix is the latest completed run.
public struct SyncRunsProjection: Projection {
    public let name = "sync_runs"
    public let version = 1
    public let tableNames = ["runs", "completed"]
    public var consumedEventTypes: Set<String>? { Self.consumed }
    static let consumed: Set<String> = [InventoryEventType.syncRunStarted, InventoryEventType.policyTypeEnumerated, InventoryEventType.syncRunFinished]
    public init() {}

    static let runs = StoreTable.projection("sync_runs", "runs")
    static let completed = StoreTable.projection("sync_runs", "completed")

    public func apply(_ event: ProjectionEvent, to tables: any KeyValueWriter) throws {
        guard Self.consumed.contains(event.type) else { return }
        let e = try event.decoded().envelope
        switch e.type {
        case InventoryEventType.syncRunStarted:
            let p = try SyncRunStarted(data: e.data)
            var run = try load(tables, e.tenant, p.runID) ?? SyncRun(runID: p.runID, tenant: e.tenant, selectionHash: p.selectionHash)
            run.selection = p.selection
            run.resolvedTypes = p.resolvedTypes
            run.source = p.source
            run.correlationID = e.correlationID ?? p.correlationID
            run.startedAt = e.recordedAt
            run.startedPosition = event.position
            try store(tables, run)
        case InventoryEventType.policyTypeEnumerated:
            let p = try PolicyTypeEnumerated(data: e.data)
            var run = try load(tables, e.tenant, p.runID) ?? SyncRun(runID: p.runID, tenant: e.tenant, selectionHash: p.selectionHash)
            run.types[p.policyType] = .init(complete: p.complete, count: p.count, errorCode: p.errorCode)
            try store(tables, run)
        case InventoryEventType.syncRunFinished:
            let p = try SyncRunFinished(data: e.data)
            var run = try load(tables, e.tenant, p.runID) ?? SyncRun(runID: p.runID, tenant: e.tenant, selectionHash: p.selectionHash)
            if run.isCompleted { return }  // a run finishes once; a second finish changes nothing
            run.status = p.status
            run.hadErrors = p.hadErrors
            run.observed = p.observed
            run.upserted = p.upserted
            run.errors = p.errors
            run.errorCodes = p.errorCodes
            run.errorContext = p.errorContext
            run.finishedAt = e.recordedAt
            run.finishedPosition = event.position
            if run.correlationID == nil { run.correlationID = e.correlationID }
            try store(tables, run)
            try tables.put(Self.completed,
                           InventoryKeys.completed(e.tenant, try InventoryKeys.hashBytes(p.selectionHash), event.position),
                           try InventoryKeys.runIDBytes(p.runID))
        default:
            return
        }
    }

    func load(_ tables: any KeyValueReader, _ tenant: String, _ runID: String) throws -> SyncRun? {
        try Self.load(tables, tenant, try InventoryKeys.runIDBytes(runID))
    }

    static func load(_ tables: any KeyValueReader, _ tenant: String, _ runID: [UInt8]) throws -> SyncRun? {
        try tables.withValue(runs, InventoryKeys.run(tenant, runID)) { bytes in
            try SyncRun(json: try JSONParser().parse(bytes))
        }
    }

    func store(_ tables: any KeyValueWriter, _ run: SyncRun) throws {
        try tables.put(Self.runs, InventoryKeys.run(run.tenant, try InventoryKeys.runIDBytes(run.runID)),
                       try CanonicalJSON.serialize(run.json))
    }
}

extension InventoryProjections {
    /// The inventory's projections, to register when opening a store.
    public static let all: [any Projection] = [ItemsProjection(), SyncRunsProjection(), ObservationsProjection()]
}

/// The inventory projections.
public enum InventoryProjections {}
