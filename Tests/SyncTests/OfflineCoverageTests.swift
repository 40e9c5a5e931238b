import CanonicalJSON
import EventLog
import Foundation
import Inventory
import Sync
import Testing

/// Coverage markers of offline exports: a type is complete only when its
/// `{"policy_type": K, "enumerated": {"count": N}}` line follows its items and N equals its item
/// lines; an empty, cut-short or legacy export never makes items look deleted.
@Suite struct OfflineCoverageTests {
    typealias F = OfflineFixture
    static let sel = #"{"policy_types":["deviceConfiguration","deviceCompliancePolicy"]}"#
    static let dc = "deviceConfiguration"
    static let cp = "deviceCompliancePolicy"

    /// A complete export: dc X, Y, Z then its marker, cp C1, C2 then its marker.
    static let full: [String] = [
        F.itemLine(dc, F.item("X")), F.itemLine(dc, F.item("Y")), F.itemLine(dc, F.item("Z")), F.markerLine(dc, count: 3),
        F.itemLine(cp, F.item("C1")), F.itemLine(cp, F.item("C2")), F.markerLine(cp, count: 2),
    ]

    /// A store whose first run saw every item of ``full``.
    static func seeded() async throws -> F {
        let f = try F()
        let first = try await f.sync("contoso", sel, lines: full, markers: false)
        #expect(first.status == .success && first.errors == 0, "\(first)")
        return f
    }

    static func context(_ f: F, _ s: SyncSummary) throws -> [String] {
        try #require(try InventoryQueries(store: f.store).run(tenant: "contoso", runID: s.runID)).errorContext
    }

    @Test func aCompleteExportLetsMissingWorkAtHighConfidence() async throws {
        let f = try await Self.seeded()
        var lines = Self.full
        lines.remove(at: 1)  // Y is gone
        lines[2] = F.markerLine(Self.dc, count: 2)
        let s = try await f.sync("contoso", Self.sel, lines: lines, markers: false)
        #expect(s.status == .success && s.errors == 0)
        let r = try f.missing("contoso", Self.sel)
        #expect(!r.lowConfidence)
        #expect(r.missing.map(\.externalID) == ["Y"])
        #expect(r.unknown.isEmpty)
    }

    @Test func anEmptyFileFailsAndMakesNothingMissing() async throws {
        let f = try await Self.seeded()
        let s = try await f.sync("contoso", Self.sel, lines: [], markers: false)
        #expect(s.status == .failed)
        #expect(s.errorCodes == [.exportIncomplete])
        #expect(s.types[Self.dc]?.complete == false && s.types[Self.cp]?.complete == false)
        let r = try f.missing("contoso", Self.sel)
        #expect(r.missing.isEmpty)
        #expect(r.unknown.map(\.externalID).sorted() == ["C1", "C2", "X", "Y", "Z"])
        let context = try Self.context(f, s)
        #expect(context.contains { $0.contains("no enumerated marker for deviceConfiguration") }, "\(context)")
        #expect(context.contains { $0.contains("no enumerated marker for deviceCompliancePolicy") }, "\(context)")
    }

    /// Cut at a line boundary after dc's marker and C1: dc is complete, cp is not.
    @Test func aFileCutAtALineBoundaryLeavesTheCutTypeIncomplete() async throws {
        let f = try await Self.seeded()
        var lines = Self.full
        lines.remove(at: 2)  // Z is gone (and dc says so)
        lines[2] = F.markerLine(Self.dc, count: 2)
        let s = try await f.sync("contoso", Self.sel, lines: Array(lines.prefix(4)), markers: false)
        #expect(s.status == .partial)
        #expect(s.errorCodes == [.exportIncomplete])
        #expect(s.types[Self.dc]?.complete == true && s.types[Self.cp]?.complete == false)
        let r = try f.missing("contoso", Self.sel)
        #expect(r.missing.map(\.externalID) == ["Z"], "the complete type's deletion is still seen")
        #expect(r.unknown.map(\.externalID) == ["C2"], "the cut type's unseen item is unknown, never missing")
        #expect(r.lowConfidence)
    }

    /// Cut in the middle of a line: the last line cannot be read, so no type can be trusted.
    @Test func aFileCutMidLineFailsAndMakesNothingMissing() async throws {
        let f = try await Self.seeded()
        var text = Array((Self.full.joined(separator: "\n") + "\n").utf8)
        let cut = text.count - F.markerLine(Self.cp, count: 2).utf8.count - 15  // inside C2's line
        text.removeSubrange(cut...)
        let path = f.dir + "/cut.ndjson"
        FileManager.default.createFile(atPath: path, contents: Data(text))
        let s = try await f.runner.run(tenant: "contoso", selection: try SelectionParser.parse(Self.sel).selection,
                                       source: OfflineExportSource(path: path))
        #expect(s.status == .failed)
        #expect(s.errorCodes.contains(.exportLineInvalid))
        let r = try f.missing("contoso", Self.sel)
        #expect(r.missing.isEmpty)
        #expect(r.unknown.map(\.externalID).sorted() == ["C2"])
    }

    @Test func aMissingMarkerMakesItsTypeIncomplete() async throws {
        let f = try await Self.seeded()
        let lines = [F.itemLine(Self.dc, F.item("X")), F.markerLine(Self.dc, count: 1), F.itemLine(Self.cp, F.item("C1"))]
        let s = try await f.sync("contoso", Self.sel, lines: lines, markers: false)
        #expect(s.status == .partial)
        #expect(s.errors == 1 && s.errorCodes == [.exportIncomplete])
        #expect(s.types[Self.cp]?.errorCode == .exportIncomplete)
        let r = try f.missing("contoso", Self.sel)
        #expect(r.missing.map(\.externalID).sorted() == ["Y", "Z"])
        #expect(r.unknown.map(\.externalID) == ["C2"])
        #expect(try Self.context(f, s).contains { $0.contains("no enumerated marker for deviceCompliancePolicy") })
    }

    @Test(arguments: [1, 3, 0])
    func aWrongCountMakesItsTypeIncomplete(count: Int) async throws {
        let f = try await Self.seeded()
        let lines = [F.itemLine(Self.dc, F.item("X")), F.itemLine(Self.dc, F.item("Y")), F.markerLine(Self.dc, count: count),
                     F.markerLine(Self.cp, count: 0)]
        let s = try await f.sync("contoso", Self.sel, lines: lines, markers: false)
        #expect(s.status == .partial)
        #expect(s.errorCodes == [.exportIncomplete])
        #expect(s.types[Self.dc]?.complete == false && s.types[Self.cp]?.complete == true)
        let r = try f.missing("contoso", Self.sel)
        #expect(r.missing.map(\.externalID).sorted() == ["C1", "C2"])
        #expect(r.unknown.map(\.externalID) == ["Z"])
        let context = try Self.context(f, s)
        #expect(context.contains { $0.contains("line 3: the enumerated marker for deviceConfiguration counts \(count) item lines, the export has 2") },
                "\(context)")
    }

    @Test func itemsAfterTheMarkerMakeTheTypeIncomplete() async throws {
        let f = try await Self.seeded()
        let lines = [F.itemLine(Self.dc, F.item("X")), F.markerLine(Self.dc, count: 1), F.itemLine(Self.dc, F.item("Y")),
                     F.itemLine(Self.dc, F.item("Y2")), F.markerLine(Self.cp, count: 0)]
        let s = try await f.sync("contoso", Self.sel, lines: lines, markers: false)
        #expect(s.status == .partial)
        #expect(s.errors == 1, "one error for the type, not one per late line")
        #expect(s.types[Self.dc]?.errorCode == .exportIncomplete)
        #expect(s.observed == 3, "the late items are still observed")
        let r = try f.missing("contoso", Self.sel)
        #expect(r.unknown.map(\.externalID) == ["Z"])
        #expect(try Self.context(f, s).contains { $0.contains("line 3: an item of deviceConfiguration after its enumerated marker (line 2)") })
    }

    @Test func aSecondMarkerMakesTheTypeIncomplete() async throws {
        let f = try await Self.seeded()
        let lines = [F.itemLine(Self.dc, F.item("X")), F.markerLine(Self.dc, count: 1), F.markerLine(Self.cp, count: 0),
                     F.markerLine(Self.dc, count: 1)]
        let s = try await f.sync("contoso", Self.sel, lines: lines, markers: false)
        #expect(s.status == .partial)
        #expect(s.types[Self.dc]?.errorCode == .exportIncomplete && s.types[Self.cp]?.complete == true)
        #expect(try Self.context(f, s).contains { $0.contains("line 4: a second enumerated marker for deviceConfiguration (the first is on line 2)") })
        #expect(try f.missing("contoso", Self.sel).unknown.map(\.externalID).sorted() == ["Y", "Z"])
    }

    /// A `failed` line still makes its type incomplete with its own code; no second error for the
    /// missing marker of a type already incomplete.
    @Test func aFailedLineStillWorks() async throws {
        let f = try await Self.seeded()
        let lines = [F.failedLine(Self.dc, code: "Forbidden", message: "no access"), F.itemLine(Self.cp, F.item("C1")),
                     F.markerLine(Self.cp, count: 1)]
        let s = try await f.sync("contoso", Self.sel, lines: lines, markers: false)
        #expect(s.status == .partial)
        #expect(s.errors == 1 && s.errorCodes == [.exportTypeFailed])
        let r = try f.missing("contoso", Self.sel)
        #expect(r.missing.map(\.externalID) == ["C2"])
        #expect(r.unknown.map(\.externalID).sorted() == ["X", "Y", "Z"])
    }

    /// Markers of types outside the selection are ignored, like their items.
    @Test func markersOfOtherTypesAreIgnored() async throws {
        let f = try F()
        let lines = [F.itemLine(Self.dc, F.item("X")), F.markerLine(Self.dc, count: 1), F.markerLine("settingsCatalogPolicy", count: 7)]
        let s = try await f.sync("contoso", #"{"policy_types":["deviceConfiguration"]}"#, lines: lines, markers: false)
        #expect(s.status == .success && s.errors == 0)
    }

    /// Marker lines that are not `{"count": N}` with a whole N are invalid lines of their type.
    @Test(arguments: [
        #"{"policy_type":"deviceConfiguration","enumerated":{"count":-1}}"#,
        #"{"policy_type":"deviceConfiguration","enumerated":{"count":1.5}}"#,
        #"{"policy_type":"deviceConfiguration","enumerated":{"count":"2"}}"#,
        #"{"policy_type":"deviceConfiguration","enumerated":{"count":2,"more":true}}"#,
        #"{"policy_type":"deviceConfiguration","enumerated":{}}"#,
        #"{"policy_type":"deviceConfiguration","enumerated":2}"#,
        #"{"policy_type":"deviceConfiguration","enumerated":{"count":1e300}}"#,
        #"{"policy_type":"deviceConfiguration","enumerated":{"count":2},"item":{"id":"A"}}"#,
    ])
    func malformedMarkersAreInvalidLinesOfTheirType(line: String) throws {
        let result = Array(line.utf8).withUnsafeBytes { b in Result { () throws(ExportLine.Error) -> ExportLine in try ExportLine.parse(b) } }
        guard case .failure(let e) = result else {
            Issue.record("\(line) parsed as \(result)")
            return
        }
        #expect(e.policyType == Self.dc)
        #expect(e.message.contains("enumerated"), "\(e.message)")
    }

    @Test func aMarkerParses() throws {
        let line = #" { "enumerated" : { "count" : 42 } , "policy_type" : "deviceConfiguration" } "#
        let parsed = try Array(line.utf8).withUnsafeBytes { b throws(ExportLine.Error) in try ExportLine.parse(b) }
        #expect(parsed == .enumerated(policyType: Self.dc, count: 42))
    }

    /// A legacy export (no markers) through the real `atlas` binary: observed, never missing,
    /// and stderr names the types without a marker.
    @Test func aLegacyExportNeverMakesAnythingMissingAndSaysWhy() async throws {
        let f = try F()
        let store = f.dir + "/cli-store"
        let legacy = Self.full.filter { !$0.contains("\"enumerated\"") }
        let first = try await Self.atlas(["sync", "--tenant", "contoso", "--selection", Self.sel, "--from-file", try f.export(legacy), "--json"], store: store)
        #expect(first.status == 1, "no type is complete: the run failed")
        #expect(first.stdout.contains(#""status":"failed""#) && first.stdout.contains("export_incomplete"), "\(first.stdout)")
        #expect(first.stderr.contains("no coverage marker for deviceConfiguration, deviceCompliancePolicy"), "\(first.stderr)")
        let second = try await Self.atlas(["sync", "--tenant", "contoso", "--selection", Self.sel, "--json",
                                     "--from-file", try f.export(legacy.filter { !$0.contains("\"Y\"") })], store: store)
        #expect(second.status == 1)
        let missing = try await Self.atlas(["missing", "--tenant", "contoso", "--selection", Self.sel, "--json"], store: store)
        #expect(missing.status == 0, "\(missing.stderr)")
        let report = try JSONParser().parse(missing.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(report["missing"] == .array([]), "\(missing.stdout)")
        #expect(report["unknown"]?.arrayValue?.compactMap { $0["external_id"]?.stringValue } == ["Y"], "\(missing.stdout)")
        #expect(try InventoryQueries(store: LMDBEventStore.open(path: store, options: .init(projections: InventoryProjections.all)))
            .items(tenant: "contoso").count == 5, "the items were observed")
    }

    static func atlas(_ args: [String], store: String) async throws -> AtlasProcess.Ran {
        try await AtlasProcess.run(args + ["--store", store])
    }
}
