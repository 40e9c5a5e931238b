import CanonicalJSON
import Foundation
@testable import GraphSimulator
import Testing

@Suite struct SeedTests {
    @Test func generationIsDeterministic() {
        let a = SimulatorSeed.generate(tenants: ["contoso", "fabrikam"], itemsPerCollection: 5, seed: 99)
        let b = SimulatorSeed.generate(tenants: ["contoso", "fabrikam"], itemsPerCollection: 5, seed: 99)
        let c = SimulatorSeed.generate(tenants: ["contoso", "fabrikam"], itemsPerCollection: 5, seed: 100)
        #expect(a == b)
        #expect(a != c)
        #expect(a.tenant("contoso")?.clientID == "client-contoso")
        let secret = a.tenant("contoso")?.clientSecret ?? ""
        #expect(secret.count == 40 && Array(secret)[3..<6] == ["8", "Q", "~"])
        #expect(!secret.contains("contoso"))
        #expect(a.tenant("contoso")?.clientSecret != a.tenant("fabrikam")?.clientSecret)
        let all = a.tenants.flatMap { $0.collections.values.flatMap { $0 } }
        #expect(all.count == 2 * 5 * SimulatedCollection.intuneDefaults.count)
        let ids = all.compactMap { $0["id"]?.stringValue }
        #expect(Set(ids).count == all.count)
        #expect(ids.allSatisfy { $0.count == 36 && $0.split(separator: "-").count == 5 })
    }

    @Test func objectsLookLikeGraphObjects() throws {
        let seed = SimulatorSeed.generate(tenants: ["contoso"], itemsPerCollection: 6, seed: 3)
        let tenant = try #require(seed.tenant("contoso"))
        for collection in SimulatedCollection.intuneDefaults {
            let items = try #require(tenant.collections[collection.fullPath])
            #expect(items.count == 6)
            for item in items {
                let type = try #require(item["@odata.type"]?.stringValue)
                #expect(collection.odataTypes.map { "#microsoft.graph.\($0)" }.contains(type))
                #expect(item["description"]?.stringValue != nil)
                #expect(item["createdDateTime"]?.stringValue != nil)
            }
        }
        let catalog = tenant.collections["/beta/deviceManagement/configurationPolicies"]![0]
        #expect(catalog["name"]?.stringValue != nil)
        #expect(catalog["displayName"] == nil)
        #expect(catalog["platforms"]?.stringValue != nil)
        #expect(catalog["technologies"]?.stringValue != nil)
        #expect(catalog["templateReference"]?["templateFamily"]?.stringValue != nil)
        #expect(catalog["templateReference"]?["templateId"]?.stringValue != nil)
        #expect(catalog["roleScopeTagIds"] == ["0"])

        let ca = tenant.collections["/v1.0/identity/conditionalAccess/policies"]![0]
        #expect(ca["modifiedDateTime"]?.stringValue != nil)
        #expect(ca["lastModifiedDateTime"] == nil)
        #expect(["enabled", "disabled", "enabledForReportingButNotEnforced"].contains(ca["state"]?.stringValue ?? ""))

        let configs = tenant.collections["/beta/deviceManagement/deviceConfigurations"]!
        #expect(configs.allSatisfy { $0["version"]?.intValue != nil && $0["displayName"] != nil })
        #expect(Set(configs.map { $0["@odata.type"]! }).count == 5)
    }

    @Test func seedFileRoundTrips() throws {
        let seed = SimulatorSeed.generate(tenants: ["contoso"], itemsPerCollection: 2, seed: 5)
        #expect(try SimulatorSeed(jsonData: seed.jsonData()) == seed)
        let text = """
            {"tenants":[{"id":"contoso","client_id":"app","client_secret":"s3cret",
              "collections":{"/beta/deviceManagement/configurationPolicies":[{"id":"p1","name":"Policy","version":2.5}]}}]}
            """
        let parsed = try SimulatorSeed(jsonData: Data(text.utf8))
        #expect(parsed.tenants.count == 1)
        #expect(parsed.tenant("contoso")?.collections["/beta/deviceManagement/configurationPolicies"] == [["id": "p1", "name": "Policy", "version": 2.5]])
        #expect(throws: SimulatorError.self) { try SimulatorSeed(jsonData: Data(#"{"tenants":[{"id":1}]}"#.utf8)) }
    }
}

@Suite struct TimestampTests {
    @Test func isoTimestampsMatchFoundation() {
        let f = ISO8601DateFormatter()
        for t in [0.0, 951_782_400, 1_640_995_200, 1_709_164_799.5, 4_102_444_800, -86_401] {
            #expect(SeedItemFactory.iso(t) == f.string(from: Date(timeIntervalSince1970: t.rounded(.down))))
        }
    }
}
