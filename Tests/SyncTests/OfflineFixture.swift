import CanonicalJSON
import EventLog
import Foundation
import Inventory
import Sync

/// A temporary store plus helpers to write offline exports and run syncs against it.
final class OfflineFixture: @unchecked Sendable {
    let dir: String
    let store: LMDBEventStore
    let runner: SyncRunner
    private var exportCount = 0

    init(options: SyncRunner.Options = .init()) throws {
        dir = NSTemporaryDirectory() + "atlas-offline-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        store = try LMDBEventStore.open(path: dir + "/store", options: .init(
            create: true, projections: InventoryProjections.all, stateTables: SyncRunner.stateTables))
        runner = SyncRunner(store: store, options: options)
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    /// An encoder of observations of `type` for a run of tenant "contoso", for sinks a test
    /// writes itself.
    static func encoder(for type: PolicyType) -> ObservationEncoder {
        ObservationEncoder(type: type, runID: "0193b9a2-7c1e-7abc-8def-0123456789ab", selectionHash: String(repeating: "a", count: 64),
                           tenant: "contoso", correlationID: nil)
    }

    /// An item of `type` with `id`, shaped like a Graph object.
    static func item(_ id: String, name: String? = nil, extra: Int = 0) -> JSONValue {
        .object(["id": .string(id), "displayName": .string(name ?? "policy \(id)"),
                 "@odata.type": "#microsoft.graph.windows10GeneralConfiguration", "version": .number(Double(extra)),
                 "roleScopeTagIds": ["0"]])
    }

    /// Writes an export with the given lines and returns its path.
    func export(_ lines: [String]) throws -> String {
        exportCount += 1
        let path = dir + "/export-\(exportCount).ndjson"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func itemLine(_ type: String, _ item: JSONValue) -> String {
        String(decoding: try! CanonicalJSON.serialize(.object(["policy_type": .string(type), "item": item])), as: UTF8.self)
    }

    static func failedLine(_ type: String, code: String = "429", message: String = "throttled") -> String {
        String(decoding: try! CanonicalJSON.serialize(.object(["policy_type": .string(type),
                                                                "failed": .object(["code": .string(code), "message": .string(message)])])), as: UTF8.self)
    }

    func sync(_ tenant: String, _ selection: String, lines: [String]) async throws -> SyncSummary {
        let s = try SelectionParser.parse(selection).selection
        return try await runner.run(tenant: tenant, selection: s, source: OfflineExportSource(path: try export(lines)))
    }

    func missing(_ tenant: String, _ selection: String) throws -> MissingReport {
        try InventoryQueries(store: store).missing(tenant: tenant, selection: try SelectionParser.parse(selection).selection)
    }
}
