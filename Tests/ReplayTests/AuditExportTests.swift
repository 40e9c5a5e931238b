import CanonicalJSON
import EventLog
import Foundation
import Inventory
import ReplayKit
import Testing

@Suite struct AuditTests {
    @Test func healthyLogAuditsClean() async throws {
        let dir = TempDir()
        try await makeStore(dir.store)
        let audit = try SelectionAudit.run(try ReplayStore.openReadOnly(dir.store), tenant: nil)
        #expect(audit.flags.isEmpty, "\(audit.flags)")
        #expect(audit.selections.count == 2)
        #expect(audit.selections.allSatisfy { $0.agrees == true })
        // The synthetic runs drop items, so the independent recomputation has something to agree on.
        #expect(audit.selections.contains { !$0.missing.isEmpty || !$0.unknown.isEmpty })
        let r = try await runTool(["audit", "selections", "--store", dir.store])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    }

    @Test func flagsWrongSelectionHashAndObservationOutsideTypes() async throws {
        let dir = TempDir()
        try await makeStore(dir.store)
        let store = try openStore(dir.store)
        let selection = Selection(policyTypes: ["deviceConfiguration"])
        // A run whose stored selection_hash does not match its payload.
        let badRun = EventID.generate().description
        let wrongHash = Selection(policyTypes: ["deviceCompliancePolicy"]).hash
        try await store.append([
            EventEnvelope(type: InventoryEventType.syncRunStarted, tenant: "contoso",
                          data: SyncRunStarted(runID: badRun, selectionHash: wrongHash, selection: selection.json,
                                               resolvedTypes: ["deviceConfiguration"], source: "offline", correlationID: badRun).data),
        ])
        // A run that observed a type outside its selection.
        let strayRun = EventID.generate().description
        try await store.append([
            EventEnvelope(type: InventoryEventType.syncRunStarted, tenant: "fabrikam",
                          data: SyncRunStarted(runID: strayRun, selectionHash: selection.hash, selection: selection.json,
                                               resolvedTypes: ["deviceConfiguration"], source: "offline", correlationID: strayRun).data),
            EventEnvelope(type: InventoryEventType.itemObserved, tenant: "fabrikam",
                          data: ItemObserved(runID: strayRun, selectionHash: selection.hash, policyType: "roleScopeTag", externalID: "0",
                                             displayName: "Default", category: "foundations", platform: nil, meta: [:],
                                             contentSHA256: String(repeating: "ab", count: 32), droppedMetaKeys: 0).data),
        ])
        let audit = try SelectionAudit.run(store, tenant: nil)
        let kinds = Set(audit.flags.map(\.kind))
        #expect(kinds.contains(.selectionHash))
        #expect(audit.flags.contains { $0.kind == .selectionHash && $0.runID == badRun })
        #expect(audit.flags.contains { $0.kind == .outsideSelection && $0.runID == strayRun })
        #expect(!audit.flags.contains { $0.kind == .missingDiffers })

        let r = try await runTool(["audit", "selections", "--store", dir.store, "--json"])
        #expect(r.status == 1)
        #expect(r.stdout.contains(badRun))
        // Scoped to the tenant without findings.
        let clean = try SelectionAudit.run(store, tenant: "nobody-has-this")
        #expect(clean.flags.isEmpty)
    }
}

@Suite struct ExportStatsTests {
    @Test func exportWritesNDJSON() async throws {
        let dir = TempDir()
        let head = try await makeStore(dir.store)
        let all = try await runTool(["export", "--store", dir.store])
        #expect(all.status == 0, "\(all.stderr)")
        let lines = all.stdout.split(separator: "\n")
        #expect(UInt64(lines.count) == head.position)
        let store = try ReplayStore.openReadOnly(dir.store)
        let raw = try store.rawEvents(from: 5, limit: 1)[0]
        let fifth = try JSONParser().parse(String(lines[4]))
        #expect(fifth["position"]?.intValue == 5)
        #expect(fifth["chain"]?.stringValue == raw.chainHash.hex)
        #expect(try CanonicalJSON.serialize(fifth["envelope"]!) == raw.json)
        #expect(lines[4].hasPrefix(#"{"position":5,"chain":""#))

        let some = try await runTool(["export", "--store", dir.store, "--tenant", "fabrikam", "--type", "inventory.sync_run", "--from", "10", "--to", String(head.position - 1)])
        #expect(some.status == 0)
        let picked = some.stdout.split(separator: "\n").map { try! JSONParser().parse(String($0)) }
        #expect(!picked.isEmpty)
        for v in picked {
            #expect(v["envelope"]?["tenant"]?.stringValue == "fabrikam")
            #expect(v["envelope"]?["type"]?.stringValue?.hasPrefix("inventory.sync_run") == true)
            #expect((v["position"]?.intValue ?? 0) >= 10)
        }
        let stats = try StoreStats.collect(store)
        let fabrikamSyncRun = try (1...head.position).filter { p in
            let e = try store.rawEvents(from: p, limit: 1)[0].decode().envelope
            return e.tenant == "fabrikam" && e.type.hasPrefix("inventory.sync_run") && p >= 10 && p < head.position
        }.count
        #expect(picked.count == fabrikamSyncRun)
        #expect(stats.events == head.position)
        #expect(stats.perTenant.values.reduce(0, +) == head.position)
        #expect(stats.perType[InventoryEventType.itemObserved] ?? 0 > 0)
        #expect(stats.projections.allSatisfy { $0.checkpoint == head.position })
        let sj = try await runTool(["stats", "--store", dir.store, "--json"])
        #expect(sj.status == 0)
        #expect(try JSONParser().parse(sj.stdout.trimmingCharacters(in: .newlines))["events"]?.intValue == Int(head.position))
    }

    @Test func envelopeFieldsReadTopLevelOnly() throws {
        let e = EventEnvelope(type: "a.b", tenant: #"te"n\ant"#, data: .object(["tenant": "inner", "type": .object(["x": .array([1, "]}"])])]))
        let f = try #require(EnvelopeFields.read(try e.canonicalJSON()))
        #expect(f.tenant == #"te"n\ant"#)
        #expect(f.type == "a.b")
        #expect(f.recordedAt == e.recordedAt.description)
        #expect(EnvelopeFields.read(Array(#"{"tenant":"x""#.utf8)) == nil)
    }
}

@Suite struct ExitCodeTests {
    @Test func badInputExitsTwoAndWritesNothing() async throws {
        let dir = TempDir()
        let head = try await makeStore(dir.store)
        let missing = dir.path + "/no-such-store"
        let notStore = dir.path + "/plain"
        try FileManager.default.createDirectory(atPath: notStore, withIntermediateDirectories: true)
        try Data("hello".utf8).write(to: URL(fileURLWithPath: notStore + "/file.txt"))
        let cases: [[String]] = [
            ["verify", "--store", missing],
            ["stats", "--store", notStore],
            ["export", "--store", missing],
            ["rebuild", "--store", missing],
            ["audit", "selections", "--store", notStore],
            ["as-of", "items", "--store", dir.store, "--tenant", "contoso", "--position", "0"],
            ["as-of", "items", "--store", dir.store, "--tenant", "contoso", "--position", String(head.position + 1)],
            ["as-of", "runs", "--store", dir.store, "--tenant", "contoso", "--time", "yesterday"],
            ["as-of", "runs", "--store", dir.store, "--tenant", "contoso", "--time", "1999-01-01T00:00:00Z"],
            ["as-of", "runs", "--store", dir.store, "--tenant", "nobody", "--position", "1"],
            ["as-of", "runs", "--store", dir.store, "--tenant", "contoso"],
            ["as-of", "missing", "--store", dir.store, "--tenant", "contoso", "--position", "1", "--selection", "{\"policy_typo\":[]}"],
            ["export", "--store", dir.store, "--from", String(head.position + 1)],
            ["export", "--store", dir.store, "--from", "0"],
            ["export", "--store", dir.store, "--consumer", "x"],
            ["export", "--store", dir.store, "--tenant", "nobody"],
            ["audit", "selections", "--store", dir.store, "--tenant", "nobody"],
        ]
        let sizeBefore = try FileManager.default.attributesOfItem(atPath: dir.store + "/data.mdb")[.size] as? NSNumber
        for args in cases {
            let r = try await runTool(args)
            #expect(r.status == 2, "\(args): \(r.status) \(r.stderr)")
            #expect(!r.stderr.isEmpty)
        }
        #expect(!FileManager.default.fileExists(atPath: missing))
        #expect(try FileManager.default.contentsOfDirectory(atPath: notStore) == ["file.txt"])
        let sizeAfter = try FileManager.default.attributesOfItem(atPath: dir.store + "/data.mdb")[.size] as? NSNumber
        #expect(sizeBefore == sizeAfter)
        let final = try await Verifier(store: try ReplayStore.openReadOnly(dir.store)).run()
        #expect(final.status == .ok)
    }
}
