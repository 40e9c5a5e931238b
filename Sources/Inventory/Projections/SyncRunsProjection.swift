import CanonicalJSON
package import EventLog
import Foundation
import Synchronization

/// The sync-run table and the index of completed runs per tenant + selection.
///
/// Table `runs`: tenant ‖ 0 ‖ 16-byte run id → canonical JSON of ``SyncRun``.
/// Table `completed`: tenant ‖ 0 ‖ 32-byte selection hash ‖ 8-byte BE position of the finish
/// event → 16-byte run id; its last entry under a prefix is the latest completed run.
package struct SyncRunsProjection: Projection {
    // Computed, not stored: the store copies projections as existentials for every event,
    // and an empty struct copies without reference counting.
    package var name: String { "sync_runs" }
    package var version: Int { 1 }
    package var tableNames: [String] { ["runs", "completed"] }
    package var consumedEventTypes: Set<String>? { Self.consumed }
    static let consumed: Set<String> = [InventoryEventType.syncRunStarted, InventoryEventType.policyTypeEnumerated, InventoryEventType.syncRunFinished]
    package init() {}

    static let runs = StoreTable.projection("sync_runs", "runs")
    static let completed = StoreTable.projection("sync_runs", "completed")

    package func apply(_ event: ProjectionEvent, to tables: any KeyValueWriter) throws {
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
            if let run = recentRows.run(stored: bytes) { return run }
            return try SyncRun(json: try JSONParser().parse(bytes))
        }
    }

    func store(_ tables: any KeyValueWriter, _ run: SyncRun) throws {
        let bytes = try CanonicalJSON.serialize(run.json)
        Self.recentRows.remember(bytes, run)
        try tables.put(Self.runs, InventoryKeys.run(run.tenant, try InventoryKeys.runIDBytes(run.runID)), bytes)
    }

    /// Rows recently written, with what they decode to: a run's events come close together
    /// in the log, and each rewrites its row, so most loads would otherwise parse the row just
    /// written. A row is taken from here only when its stored bytes are exactly the bytes
    /// remembered, so a rolled-back write or another store's row can never be mistaken for it.
    static let recentRows = RowCache()

    final class RowCache: Sendable {
        private let rows = Mutex<[(bytes: [UInt8], run: SyncRun)]>([])

        func run(stored: UnsafeRawBufferPointer) -> SyncRun? {
            rows.withLock { rows in
                for row in rows.reversed() where row.bytes.count == stored.count {
                    if row.bytes.withUnsafeBytes({ memcmp($0.baseAddress!, stored.baseAddress!, stored.count) == 0 }) { return row.run }
                }
                return nil
            }
        }

        func remember(_ bytes: [UInt8], _ run: SyncRun) {
            guard !bytes.isEmpty else { return }
            rows.withLock { rows in
                if rows.count == 16 { rows.removeFirst() }
                rows.append((bytes, run))
            }
        }
    }
}

extension InventoryProjections {
    /// The inventory's projections, to register when opening a store.
    package static let all: [any Projection] = [ItemsProjection(), SyncRunsProjection(), ObservationsProjection(), AccessTokensProjection()]
}

/// The inventory projections.
package enum InventoryProjections {}
