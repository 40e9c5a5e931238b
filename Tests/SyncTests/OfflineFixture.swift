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

    /// The coverage marker of `type`: exported completely with `count` item lines.
    static func markerLine(_ type: String, count: Int) -> String {
        String(decoding: try! CanonicalJSON.serialize(.object(["policy_type": .string(type),
                                                                "enumerated": .object(["count": .number(Double(count))])])), as: UTF8.self)
    }

    /// `lines` followed by a coverage marker for each of `types`, counting the item lines of
    /// each type as an exporter would (a type with a `failed` line gets no marker).
    static func withMarkers(_ lines: [String], types: [String]) -> [String] {
        var counts: [String: Int] = [:]
        var failed = Set<String>()
        for line in lines {
            guard case .object(let o)? = try? JSONParser().parse(Array(line.utf8)), let t = o["policy_type"]?.stringValue else { continue }
            if o["item"] != nil { counts[t, default: 0] += 1 }
            if o["failed"] != nil { failed.insert(t) }
        }
        return lines + types.filter { !failed.contains($0) }.map { markerLine($0, count: counts[$0, default: 0]) }
    }

    /// Syncs `lines` as an export of `tenant`; unless `markers` is false, the export ends with
    /// a coverage marker for each type of the selection (``withMarkers(_:types:)``).
    func sync(_ tenant: String, _ selection: String, lines: [String], markers: Bool = true) async throws -> SyncSummary {
        let s = try SelectionParser.parse(selection).selection
        let lines = markers ? Self.withMarkers(lines, types: s.resolvedTypes.map(\.key)) : lines
        return try await runner.run(tenant: tenant, selection: s, source: OfflineExportSource(path: try export(lines)))
    }

    func missing(_ tenant: String, _ selection: String) throws -> MissingReport {
        try InventoryQueries(store: store).missing(tenant: tenant, selection: try SelectionParser.parse(selection).selection)
    }
}
