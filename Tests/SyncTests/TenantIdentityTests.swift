import CanonicalJSON
import EventLog
import Foundation
import GraphSimulator
@testable import Inventory
@testable import Sync
import Testing

/// Tenant identity (one lowercased form, any case accepted), `atlas tenants`, the hint for an
/// unknown tenant, and the key-size limits, through the built `atlas` against the simulator.
@Suite(.serialized) struct TenantIdentityTests {
    typealias X = CrossProcessRunTests
    typealias C = CLIFormatTests

    @Test func anyCaseFindsWhatTheLowercasedTenantSynced() async throws {
        let env = try await X.start(tenants: ["contoso.onmicrosoft.com", "fabrikam.onmicrosoft.com"], slowSeconds: nil)
        defer { Task { await env.simulator.stop() } }
        let sync = try await C.atlas(env, ["sync", "--tenant", "Contoso.OnMicrosoft.com", "--tenant", "contoso.onmicrosoft.com",
                                           "--tenant", "FABRIKAM.onmicrosoft.com", "--selection", X.selection, "--json"])
        #expect(sync.status == 0, "\(sync.err)")
        let summaries = try sync.out.split(separator: "\n").map { try JSONParser().parse(String($0)) }
        #expect(summaries.count == 2, "the two spellings of contoso are one tenant")
        let items = try await C.atlas(env, ["items", "--tenant", "CONTOSO.onmicrosoft.com", "--format", "ndjson"])
        #expect(items.out.split(separator: "\n").count == 40)
        #expect(items.err.isEmpty)

        let tenants = try await C.atlas(env, ["tenants", "--json"])
        #expect(tenants.status == 0, "\(tenants.err)")
        let rows = try #require(try JSONParser().parse(tenants.out).arrayValue)
        #expect(rows.map { $0["tenant"]?.stringValue } == ["contoso.onmicrosoft.com", "fabrikam.onmicrosoft.com"])
        #expect(rows.allSatisfy { $0["items"] == 40 && $0["runs"] == 1 && $0["latest_status"] == "success" })
        #expect(rows.allSatisfy { $0["latest_finished_at"]?.stringValue != nil })
        let table = try await C.atlas(env, ["tenants"])
        #expect(table.out.contains("contoso.onmicrosoft.com") && table.out.contains("TENANT"))

        let unknown = try await C.atlas(env, ["items", "--tenant", "contosso.onmicrosoft.com", "--json"])
        #expect(unknown.status == 0)
        #expect(unknown.out.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
        #expect(unknown.err.contains("not in this store") && unknown.err.contains("closest known: contoso.onmicrosoft.com"), "\(unknown.err)")
        let runs = try await C.atlas(env, ["runs", "--tenant", "northwind.example", "--json"])
        #expect(runs.status == 0 && runs.err.contains("tenant northwind.example is not in this store"), "\(runs.err)")
    }

    @Test func badTenantsAreUsageErrorsBeforeAnyStoreExists() async throws {
        let env = try await X.start(tenants: ["contoso"], slowSeconds: nil)
        defer { Task { await env.simulator.stop() } }
        let long = String(repeating: "t", count: 242)  // the reported case: with a 256-byte id, over LMDB's 511
        for bad in [long, "", "con toso", "contoso\u{7}", String(repeating: "é", count: 65)] {
            let r = try await C.atlas(env, ["sync", "--tenant", bad, "--selection", X.selection])
            #expect(r.status == 2, "\(bad.prefix(20)): \(r.err)")
            #expect(r.err.contains("tenant"), "\(r.err)")
            #expect(!FileManager.default.fileExists(atPath: env.store), "no store is created for a bad tenant")
        }
        let file = env.dir + "/tenants.txt"
        try "contoso\n\(long)\n".write(toFile: file, atomically: true, encoding: .utf8)
        let r = try await C.atlas(env, ["sync", "--tenants-file", file, "--selection", X.selection])
        #expect(r.status == 2 && r.err.contains("242 bytes"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: env.store))
    }

    @Test func theLongestTenantAndIDsFitAndALongerIDIsOneRejectedItem() async throws {
        let tenant = String(repeating: "t", count: InventoryLimits.tenantBytes - 12) + ".example.com"
        #expect(tenant.utf8.count == InventoryLimits.tenantBytes)
        let env = try await X.start(tenants: [tenant], slowSeconds: nil)
        defer { Task { await env.simulator.stop() } }
        let path = PolicyTypeRegistry.type("deviceConfiguration")!.versionedPath
        let longest = String(repeating: "a", count: InventoryLimits.externalIDBytes)
        let tooLong = String(repeating: "b", count: InventoryLimits.externalIDBytes + 1)
        for id in [longest, tooLong] {
            #expect(env.simulator.upsertItem(tenant: tenant, path: path, item: .object([
                "id": .string(id), "displayName": "edge", "@odata.type": "#microsoft.graph.windows10GeneralConfiguration"])))
        }
        let r = try await C.atlas(env, ["sync", "--tenant", tenant, "--selection", X.selection, "--json"])
        let summary = try X.summary(r.out)
        #expect(summary["status"] == "partial", "\(r.out) \(r.err)")
        #expect(summary["error_codes"] == ["graph_item_invalid"])
        #expect(summary["errors"] == 1)
        #expect(summary["observed"] == 41)
        let items = try await C.atlas(env, ["items", "--tenant", tenant, "--format", "ndjson"])
        let ids = try items.out.split(separator: "\n").map { try JSONParser().parse(String($0))["external_id"]?.stringValue }
        #expect(ids.count == 41 && ids.contains(longest) && !ids.contains(tooLong))

        // The offline path: the same two ids in an export.
        let f = try OfflineFixture()
        let s = try await f.sync(tenant, X.selection, lines: [
            OfflineFixture.itemLine("deviceConfiguration", OfflineFixture.item(longest)),
            OfflineFixture.itemLine("deviceConfiguration", OfflineFixture.item(tooLong)),
            OfflineFixture.itemLine("deviceCompliancePolicy", OfflineFixture.item("c-1")),
        ])
        #expect(s.errorCodes == [.graphItemInvalid] && s.errors == 1 && s.observed == 2, "\(s)")
        #expect(Set(try InventoryQueries(store: f.store).items(tenant: tenant).map(\.externalID)) == ["c-1", longest])
    }

    @Test func everyKeyAtTheLargestAllowedValuesFitsLMDB() throws {
        let tenant = String(repeating: "t", count: InventoryLimits.tenantBytes)
        let longestType = try #require(PolicyTypeRegistry.all.map(\.key).max { $0.utf8.count < $1.utf8.count })
        #expect(longestType.utf8.count <= InventoryLimits.policyTypeBytes)
        let type = String(repeating: "p", count: InventoryLimits.policyTypeBytes)
        let id = String(repeating: "i", count: InventoryLimits.externalIDBytes)
        let hash = String(repeating: "f", count: 64)
        let runID = EventID.generate().description
        let budget = InventoryLimits.lmdbKeyBytes - InventoryLimits.keyMarginBytes
        let hashBytes = [UInt8](repeating: 0xff, count: 32)
        let keys: [String: Int] = [
            "lease lock": LeaseKey.lock(tenant: tenant, selectionHash: hash).encoded.count,
            "lease slot": LeaseKey.slot(tenant: tenant, runID: runID).encoded.count,
            "items": InventoryKeys.item(tenant, type, id).count,
            "observations": InventoryKeys.observation(tenant, hashBytes, type, id).count,
            "runs": InventoryKeys.run(tenant, [UInt8](repeating: 1, count: 16)).count,
            "completed": InventoryKeys.completed(tenant, hashBytes, .max).count,
            "by_last_runs": LastRunsKey.key(tenant, hashBytes[...], newest: [UInt8](repeating: 1, count: 16), previous: nil as [UInt8]?,
                                            entry: .max).count,
            "tenant_events": tenant.utf8.count + 1 + 8,  // tenant ‖ 0 ‖ 8-byte position (EventLog's StoreLayout)
        ]
        for (name, size) in keys { #expect(size <= budget, "\(name) key has \(size) bytes, over \(budget)") }
        // The largest is the observations key, and the limits leave exactly the promised margin or more.
        #expect(keys["observations"] == keys.values.max())
        #expect(keys["observations"] == InventoryLimits.tenantBytes + 1 + 32 + InventoryLimits.policyTypeBytes + 1 + InventoryLimits.externalIDBytes)
    }
}
