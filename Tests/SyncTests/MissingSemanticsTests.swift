import CanonicalJSON
import EventLog
import Inventory
import Sync
import Testing

@Suite struct MissingSemanticsTests {
    let selA = #"{"policy_types":["deviceConfiguration","deviceCompliancePolicy"]}"#
    let selB = #"{"policy_types":["deviceConfiguration"]}"#
    typealias F = OfflineFixture

    @Test func noRunMeansLowConfidenceAndNothingMissing() throws {
        let f = try F()
        let r = try f.missing("contoso", selA)
        #expect(r.latestRun == nil)
        #expect(r.lowConfidence)
        #expect(r.missing.isEmpty && r.unknown.isEmpty)
    }

    /// The seed's mutable last_seen_run_id approach breaks here: A syncs X,Y; B syncs X; X must
    /// not look missing for A, and A's answer must not change at all.
    @Test func runsOfOtherSelectionsNeverChangeTheAnswer() async throws {
        let f = try F()
        let first = try await f.sync("contoso", selA, lines: [F.itemLine("deviceConfiguration", F.item("X")), F.itemLine("deviceConfiguration", F.item("Y"))])
        #expect(first.status == .success)
        let before = try f.missing("contoso", selA)
        let b = try await f.sync("contoso", selB, lines: [F.itemLine("deviceConfiguration", F.item("X"))])
        #expect(b.status == .success)
        let after = try f.missing("contoso", selA)
        #expect(after == before)
        #expect(after.missing.isEmpty)
        #expect(after.latestRun?.runID == first.runID)
        // B's own answer: its only run saw X; nothing missing for B either.
        #expect(try f.missing("contoso", selB).missing.isEmpty)
        // Now A syncs only X: Y is missing for A (and only for A).
        _ = try await f.sync("contoso", selA, lines: [F.itemLine("deviceConfiguration", F.item("X"))])
        let a2 = try f.missing("contoso", selA)
        #expect(a2.missing.map(\.externalID) == ["Y"])
        #expect(!a2.lowConfidence)
        #expect(try f.missing("contoso", selB).missing.isEmpty)
    }

    @Test func incompleteTypeYieldsUnknownNeverMissing() async throws {
        let f = try F()
        _ = try await f.sync("contoso", selA, lines: [F.itemLine("deviceConfiguration", F.item("X")),
                                                      F.itemLine("deviceCompliancePolicy", F.item("C1"))])
        // deviceConfiguration fails to enumerate; deviceCompliancePolicy completes without C1.
        let s = try await f.sync("contoso", selA, lines: [F.failedLine("deviceConfiguration")])
        #expect(s.status == .partial)
        #expect(s.errorCodes == [.exportTypeFailed])
        let r = try f.missing("contoso", selA)
        #expect(r.lowConfidence)
        #expect(r.unknown.map(\.externalID) == ["X"])
        #expect(r.missing.map(\.externalID) == ["C1"])
        #expect(r.latestRun?.types["deviceConfiguration"]?.complete == false)
        #expect(r.latestRun?.types["deviceCompliancePolicy"]?.complete == true)
    }

    @Test func malformedLinesAreReportedWithLineNumbersAndNothingLooksDeleted() async throws {
        let f = try F()
        _ = try await f.sync("contoso", selB, lines: [F.itemLine("deviceConfiguration", F.item("X")), F.itemLine("deviceConfiguration", F.item("Y"))])
        let s = try await f.sync("contoso", selB, lines: [F.itemLine("deviceConfiguration", F.item("X")), "{not json", #"{"policy_type":"deviceConfiguration","item":7}"#])
        #expect(s.errors == 2)
        #expect(s.errorCodes == [.exportLineInvalid])
        let run = try InventoryQueries(store: f.store).run(tenant: "contoso", runID: s.runID)
        #expect(run?.errorContext.contains { $0.contains("line 2") } == true)
        #expect(run?.errorContext.contains { $0.contains("line 3") } == true)
        let r = try f.missing("contoso", selB)
        #expect(r.missing.isEmpty)
        #expect(r.unknown.map(\.externalID) == ["Y"])
        // Items already stored are untouched.
        #expect(try InventoryQueries(store: f.store).items(tenant: "contoso").map(\.externalID) == ["X", "Y"])
    }

    /// Items the observation rules reject (no id, an id that is not a string) are errors of
    /// their type, named with their line; the type is then incomplete, so its earlier items are
    /// unknown, never missing. Items of the same page that are valid are observed.
    @Test func rejectedItemsAreReportedWithLineNumbersAndMakeTheirTypeIncomplete() async throws {
        let f = try F()
        let first = (0..<30).map { F.itemLine("deviceConfiguration", F.item("id-\($0)")) }
        _ = try await f.sync("contoso", selB, lines: first)
        var lines = (0..<20).map { F.itemLine("deviceConfiguration", F.item("id-\($0)")) }
        lines.insert(F.itemLine("deviceConfiguration", .object(["displayName": "no id"])), at: 5)
        lines.insert(F.itemLine("deviceConfiguration", .object(["id": 42, "displayName": "numeric id"])), at: 12)
        let s = try await f.sync("contoso", selB, lines: lines)
        #expect(s.status == .failed, "its only type is incomplete")
        #expect(s.observed == 20 && s.errors == 2)
        #expect(s.errorCodes == [.graphItemInvalid])
        let run = try #require(try InventoryQueries(store: f.store).run(tenant: "contoso", runID: s.runID))
        #expect(run.errorContext.count == 2)
        #expect(run.errorContext.first?.contains("line 6") == true, "\(run.errorContext)")
        #expect(run.errorContext.last?.contains("line 13") == true, "\(run.errorContext)")
        let r = try f.missing("contoso", selB)
        #expect(r.lowConfidence && r.missing.isEmpty)
        #expect(r.unknown.map(\.externalID).sorted() == (20..<30).map { "id-\($0)" }.sorted())
    }

    @Test func tenantsAreIsolated() async throws {
        let f = try F()
        _ = try await f.sync("contoso", selB, lines: [F.itemLine("deviceConfiguration", F.item("X"))])
        _ = try await f.sync("contoso-2", selB, lines: [F.itemLine("deviceConfiguration", F.item("Z"))])
        let q = InventoryQueries(store: f.store)
        #expect(try q.items(tenant: "contoso").map(\.externalID) == ["X"])
        #expect(try q.items(tenant: "contoso-2").map(\.externalID) == ["Z"])
        #expect(try q.runs(tenant: "contoso").count == 1)
        #expect(try q.items(tenant: "contos").isEmpty)
    }

    @Test func resyncCountsUnchangedItemsAsObservedNotUpserted() async throws {
        let f = try F()
        let lines = (0..<50).map { F.itemLine("deviceConfiguration", F.item("id-\($0)")) }
        let first = try await f.sync("contoso", selB, lines: lines)
        #expect(first.observed == 50 && first.upserted == 50)
        var changed = lines
        changed[7] = F.itemLine("deviceConfiguration", F.item("id-7", name: "renamed"))
        let second = try await f.sync("contoso", selB, lines: changed)
        #expect(second.observed == 50 && second.upserted == 1)
        let item = try InventoryQueries(store: f.store).item(tenant: "contoso", policyType: "deviceConfiguration", externalID: "id-7")
        #expect(item?.displayName == "renamed")
        #expect(item?.lastSeenRunID == second.runID)
        #expect(item!.firstSeenAt <= item!.lastSeenAt)
    }

    @Test func syncAppendsOnlyInventoryEventsAndNoPolicyBodies() async throws {
        let f = try F()
        let secretSetting = "body-only-value-\(UInt64.random(in: 0..<UInt64.max))"
        let item: JSONValue = .object(["id": "X", "displayName": "n", "omaSettings": .array([.object(["value": .string(secretSetting)])])])
        _ = try await f.sync("contoso", selB, lines: [F.itemLine("deviceConfiguration", item)])
        var types = Set<String>()
        try f.store.forEachRawEvent { e in
            #expect(!String(decoding: e.json, as: UTF8.self).contains(secretSetting))
            types.insert(try e.decode().envelope.type)
            return true
        }
        #expect(types.isSubset(of: InventoryEventType.produced))
        #expect(types.contains(InventoryEventType.itemObserved))
    }

    @Test func lockHeldRunIsSkippedAndDeadLeaseIsReclaimedAsAbandoned() async throws {
        let f = try F()
        // Plant a live lease of another (fake, alive-looking) process on another host.
        let selection = try SelectionParser.parse(selB).selection
        try await plantLease(f, tenant: "contoso", selection: selection, host: "other-host", expiresIn: 60_000)
        let skipped = try await f.sync("contoso", selB, lines: [])
        #expect(skipped.status == .skipped)
        #expect(skipped.errorCodes == [.lockHeld])
        // Expire it: the next run reclaims it, finishing the dead run as abandoned.
        try await plantLease(f, tenant: "contoso", selection: selection, host: "other-host", expiresIn: -1)
        let ok = try await f.sync("contoso", selB, lines: [F.itemLine("deviceConfiguration", F.item("X"))])
        #expect(ok.status == .success)
        let runs = try InventoryQueries(store: f.store).runs(tenant: "contoso")
        let abandoned = runs.first { $0.errorCodes == [.abandoned] }
        #expect(abandoned?.status == .failed)
    }

    func plantLease(_ f: OfflineFixture, tenant: String, selection: Selection, host: String, expiresIn: Int64) async throws {
        let runID = EventID.generate().description
        let started = SyncRunStarted(runID: runID, selectionHash: selection.hash, selection: selection.json,
                                     resolvedTypes: selection.resolvedTypes.map(\.key), source: "offline", correlationID: "c-\(runID)")
        let now = Timestamp.now().millisecondsSinceEpoch
        let lease: JSONValue = .object([
            "run_id": .string(runID), "tenant": .string(tenant), "selection_hash": .string(selection.hash),
            "correlation_id": .string("c-\(runID)"), "pid": 1, "host": .string(host), "process_token": "t",
            "heartbeat_at": .number(Double(now)), "expires_at": .number(Double(now + expiresIn)),
        ])
        let bytes = try CanonicalJSON.serialize(lease)
        let lockKey = [UInt8(ascii: "L")] + Array(tenant.utf8) + [0] + Array(selection.hash.utf8)
        let slotKey = [UInt8(ascii: "S")] + Array(tenant.utf8) + [0] + Array(runID.utf8)
        try await f.store.append([EventEnvelope(type: InventoryEventType.syncRunStarted, tenant: tenant, correlationID: "c-\(runID)", data: started.data)]) { t in
            try t.put(.state("run_leases"), lockKey, bytes)
            try t.put(.state("run_leases"), slotKey, bytes)
        }
    }

    @Test func concurrencyLimitsSkipRuns() async throws {
        let f = try F(options: .init(globalLimit: 1, perTenantLimit: 1))
        let selection = try SelectionParser.parse(selA).selection
        try await plantLease(f, tenant: "fabrikam", selection: selection, host: "other-host", expiresIn: 60_000)
        let s = try await f.sync("contoso", selB, lines: [])
        #expect(s.status == .skipped)
        #expect(s.errorCodes == [.concurrencyLimitGlobal])
        let g = try F(options: .init(globalLimit: 5, perTenantLimit: 1))
        try await plantLease(g, tenant: "contoso", selection: selection, host: "other-host", expiresIn: 60_000)
        let t = try await g.sync("contoso", selB, lines: [])
        #expect(t.errorCodes == [.concurrencyLimitTenant])
    }
}
