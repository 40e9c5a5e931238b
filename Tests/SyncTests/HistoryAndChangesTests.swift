import CanonicalJSON
import EventLog
import Foundation
import Inventory
import Sync
import Testing

/// `atlas history` and `atlas changes` over a history with changes, absences, a failed type, a
/// reappearance and runs of other selections.
@Suite struct HistoryAndChangesTests {
    typealias F = OfflineFixture
    static let selA = #"{"policy_types":["deviceConfiguration","deviceCompliancePolicy"]}"#
    static let selB = #"{"policy_types":["deviceConfiguration"]}"#
    static let selC = #"{"policy_types":["deviceCompliancePolicy"]}"#
    static let dc = "deviceConfiguration", cp = "deviceCompliancePolicy"

    /// The runs, in order, and the fixture holding them.
    struct History {
        let f: F
        let runs: [SyncSummary]
    }

    static func line(_ type: String, _ id: String, version: Int = 0) -> String { F.itemLine(type, F.item(id, extra: version)) }

    /// 0: A, X absent (before its first observation)   1: A, X first seen, Y, C1
    /// 2: A, X changed, Y gone, Z added                3: A, deviceConfiguration failed
    /// 4: A, X not seen (disappeared)                  5: A, X still not seen (absent)
    /// 6: C (compliance only: not X's type)            7: A, X back (reappeared), C1 changed
    /// 8: B (another selection), X unchanged
    static func makeHistory() async throws -> History {
        let f = try F()
        var runs: [SyncSummary] = []
        runs.append(try await f.sync("contoso", selA, lines: [line(dc, "W"), line(cp, "C1")]))
        runs.append(try await f.sync("contoso", selA, lines: [line(dc, "X"), line(dc, "Y"), line(cp, "C1")]))
        runs.append(try await f.sync("contoso", selA, lines: [line(dc, "X", version: 1), line(dc, "Z"), line(cp, "C1")]))
        runs.append(try await f.sync("contoso", selA, lines: [F.failedLine(dc), line(cp, "C1")]))
        runs.append(try await f.sync("contoso", selA, lines: [line(dc, "Z"), line(cp, "C1")]))
        runs.append(try await f.sync("contoso", selA, lines: [line(dc, "Z"), line(cp, "C1")]))
        runs.append(try await f.sync("contoso", selC, lines: [line(cp, "C1")]))
        runs.append(try await f.sync("contoso", selA, lines: [line(dc, "X", version: 1), line(dc, "Z"), line(cp, "C1", version: 2)]))
        runs.append(try await f.sync("contoso", selB, lines: [line(dc, "X", version: 1)]))
        // Another tenant with the same item id never shows up.
        _ = try await f.sync("fabrikam", selA, lines: [line(dc, "X", version: 7)])
        #expect(runs[3].status == .partial)
        return History(f: f, runs: runs)
    }

    @Test func historyNamesEveryRunsVerdictFromTheFirstObservation() async throws {
        let h = try await Self.makeHistory()
        let history = try InventoryQueries(store: h.f.store).history(tenant: "contoso", policyType: Self.dc, externalID: "X")
        let expected: [(Int, ItemHistory.Status, ItemHistory.Change)] = [
            (1, .observed, .firstSeen), (2, .observed, .changed), (3, .unknown, .unknown), (4, .notSeen, .disappeared),
            (5, .notSeen, .absent), (7, .observed, .reappeared), (8, .observed, .unchanged),
        ]
        #expect(history.entries.map(\.runID) == expected.map { h.runs[$0.0].runID })
        #expect(history.entries.map(\.status) == expected.map(\.1))
        #expect(history.entries.map(\.change) == expected.map(\.2))
        // Log order; hashes only on observations, and the changed one differs from the first.
        #expect(history.entries.map(\.position) == history.entries.map(\.position).sorted())
        #expect(history.entries.map { $0.contentSHA256 != nil } == expected.map { $0.1 == .observed })
        #expect(history.entries[0].contentSHA256 != history.entries[1].contentSHA256)
        #expect(history.entries[1].contentSHA256 == history.entries[5].contentSHA256)

        // Y: seen once, then gone for good.
        let y = try InventoryQueries(store: h.f.store).history(tenant: "contoso", policyType: Self.dc, externalID: "Y")
        #expect(y.entries.map(\.change) == [.firstSeen, .disappeared, .unknown, .absent, .absent, .absent, .absent])
        // Never observed (or another tenant's only): no entries.
        #expect(try InventoryQueries(store: h.f.store).history(tenant: "contoso", policyType: Self.dc, externalID: "nope").entries.isEmpty)
        #expect(try InventoryQueries(store: h.f.store).history(tenant: "contoso", policyType: Self.cp, externalID: "X").entries.isEmpty)
    }

    @Test func changesBetweenRunsClassifyOnlyCompletelyEnumeratedTypes() async throws {
        let h = try await Self.makeHistory()
        let q = InventoryQueries(store: h.f.store)
        let hashA = h.runs[1].selectionHash
        // Defaults: the latest completed run of A and the one before it.
        let latest = try q.changes(tenant: "contoso", selectionHash: hashA)
        #expect(latest.toRun.runID == h.runs[7].runID && latest.fromRun.runID == h.runs[5].runID)
        #expect(latest.added.map(\.externalID) == ["X"])
        #expect(latest.changed.map(\.externalID) == ["C1"])
        #expect(latest.changed[0].previousContentSHA256 != nil && latest.changed[0].previousContentSHA256 != latest.changed[0].contentSHA256)
        #expect(latest.removed.isEmpty && latest.unknownTypes.isEmpty)

        let oneTwo = try q.changes(tenant: "contoso", selectionHash: hashA, fromRunID: h.runs[1].runID, toRunID: h.runs[2].runID)
        #expect(oneTwo.added.map(\.externalID) == ["Z"])
        #expect(oneTwo.removed.map(\.externalID) == ["Y"])
        #expect(oneTwo.changed.map(\.externalID) == ["X"])
        #expect(oneTwo.removed[0].displayName == "policy Y")

        // A type incomplete in either run: listed, none of its items classified.
        for (from, to) in [(2, 3), (3, 4)] {
            let c = try q.changes(tenant: "contoso", selectionHash: hashA, fromRunID: h.runs[from].runID, toRunID: h.runs[to].runID)
            #expect(c.unknownTypes == [Self.dc])
            #expect(c.added.isEmpty && c.removed.isEmpty && c.changed.isEmpty)
        }
        // --to-run alone: from is the completed run of A before it.
        #expect(try q.changes(tenant: "contoso", selectionHash: hashA, toRunID: h.runs[2].runID).fromRun.runID == h.runs[1].runID)

        // Runs of another selection or tenant, unknown runs, one run twice, no earlier run.
        let refusals: [(String?, String?, InventoryQueries.ChangesError)] = [
            (h.runs[8].runID, nil, .otherSelection(h.runs[8].runID, selectionHash: h.runs[8].selectionHash)),
            ("0193b9a2-7c1e-7abc-8def-0123456789ab", nil, .unknownRun("0193b9a2-7c1e-7abc-8def-0123456789ab", tenant: "contoso")),
            (h.runs[2].runID, h.runs[2].runID, .sameRun(h.runs[2].runID)),
            (nil, h.runs[0].runID, .noEarlierRun(toRun: h.runs[0].runID)),
        ]
        for (from, to, error) in refusals {
            #expect(throws: error) { try q.changes(tenant: "contoso", selectionHash: hashA, fromRunID: from, toRunID: to) }
        }
        #expect(throws: InventoryQueries.ChangesError.noCompletedRun(tenant: "nobody", selectionHash: hashA)) {
            try q.changes(tenant: "nobody", selectionHash: hashA)
        }
    }

    @Test func theCommandsPrintTheDocumentedJSONAndRefuseBadRunsWithExit2() async throws {
        let h = try await Self.makeHistory()
        let store = h.f.dir + "/store"
        func atlas(_ args: [String]) throws -> (Int32, String, String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: CrossProcessRunTests.atlasBinary)
            p.arguments = args + ["--store", store]
            p.standardOutput = Pipe()
            p.standardError = Pipe()
            try p.run()
            let (out, err) = CrossProcessRunTests.output(p)
            return (p.terminationStatus, out, err)
        }
        let (status, out, err) = try atlas(["history", "--tenant", "contoso", "--policy-type", Self.dc, "--id", "X", "--json"])
        #expect(status == 0, "\(err)")
        let json = try JSONParser().parse(Array(out.utf8))
        #expect(json["external_id"] == .string("X") && json["policy_type"] == .string(Self.dc) && json["tenant"] == .string("contoso"))
        guard case .array(let entries)? = json["entries"] else { Issue.record("no entries: \(out)"); return }
        #expect(entries.compactMap { $0["change"] } == ["first_seen", "changed", "unknown", "disappeared", "absent", "reappeared", "unchanged"] as [JSONValue])
        #expect(entries[2]["content_sha256"] == nil && entries[0]["content_sha256"] != nil)

        let (cs, cout, cerr) = try atlas(["changes", "--tenant", "contoso", "--selection", Self.selA, "--json"])
        #expect(cs == 0, "\(cerr)")
        let c = try JSONParser().parse(Array(cout.utf8))
        #expect(c["to_run"] == .string(h.runs[7].runID) && c["from_run"] == .string(h.runs[5].runID))
        func first(_ key: String) -> JSONValue? { if case .array(let a)? = c[key] { return a.first } else { return nil } }
        #expect(first("added")?["external_id"] == .string("X"))
        #expect(first("changed")?["previous_content_sha256"] != nil)
        // The selection hash works too, and the table form answers.
        let (ts, tout, _) = try atlas(["changes", "--tenant", "contoso", "--selection", h.runs[1].selectionHash])
        #expect(ts == 0 && tout.contains("1 added, 0 removed, 1 changed"), "\(tout)")

        // ndjson: one entry per line; csv: a header and one record per item, its kind first.
        let (ns, ndOut, _) = try atlas(["history", "--tenant", "contoso", "--policy-type", Self.dc, "--id", "X", "--format", "ndjson"])
        #expect(ns == 0)
        let lines = try ndOut.split(separator: "\n").map { try JSONParser().parse(String($0)) }
        #expect(lines == entries)
        let (vs, vout, _) = try atlas(["changes", "--tenant", "contoso", "--selection", Self.selA, "--format", "csv"])
        #expect(vs == 0)
        let records = vout.split(whereSeparator: \.isNewline)  // RFC 4180: CRLF
        #expect(records.first == "change,policy_type,external_id,display_name,content_sha256,previous_content_sha256")
        #expect(records.dropFirst().map { $0.split(separator: ",").prefix(3).joined(separator: ",") }
                == ["added,deviceConfiguration,X", "changed,deviceCompliancePolicy,C1"])

        let (bad, _, badErr) = try atlas(["changes", "--tenant", "contoso", "--selection", Self.selA, "--to-run", h.runs[8].runID])
        #expect(bad == 2 && badErr.contains("not of the selection given"), "\(badErr)")
        let (none, nout, nerr) = try atlas(["history", "--tenant", "contoso", "--policy-type", Self.dc, "--id", "nope", "--json"])
        #expect(none == 0 && nerr.contains("observed") && nout.contains(#""entries":[]"#), "\(nout) \(nerr)")
    }
}
