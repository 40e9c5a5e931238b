import CanonicalJSON
import Foundation
import GraphSimulator
import Testing

@Suite struct PagingTests {
    @Test func thousandFiftyItemsInElevenPagesOfHundred() async throws {
        try await Fixture.run(seed: Fixture.bigSeed(count: 1050)) { sim, base in
            let token = try await HTTP.token(base, tenant: sim.tenant("contoso")!)
            let pages = try await HTTP.allPages(base + Fixture.deviceConfigurations + "?$top=100", token: token)
            #expect(pages.count == 11)
            #expect(pages.dropLast().allSatisfy { $0["value"]?.arrayValue?.count == 100 })
            #expect(pages.last?["value"]?.arrayValue?.count == 50)
            #expect(pages.last?["@odata.nextLink"] == nil)
            let ids = pages.flatMap { $0["value"]!.arrayValue! }.map { $0["id"]!.stringValue! }
            #expect(ids.count == 1050)
            #expect(Set(ids).count == 1050)
            let stored = sim.items(tenant: "contoso", path: Fixture.deviceConfigurations)!.map { $0["id"]!.stringValue! }
            #expect(ids == stored)

            // nextLinks are absolute on the simulator's own base URL with an opaque $skiptoken.
            for page in pages.dropLast() {
                let link = try #require(page["@odata.nextLink"]?.stringValue)
                #expect(link.hasPrefix(base + Fixture.deviceConfigurations + "?$skiptoken="))
                #expect(!link.contains("$top"))
                #expect(!link.contains("skip=") || link.contains("skiptoken="))
            }
            #expect(pages.first?["@odata.context"]?.stringValue?.hasPrefix(base + "/beta/$metadata#") == true)

            // The log shows each page fetched exactly once, in order.
            let gets = sim.requests().filter { $0.method == "GET" }
            #expect(gets.map(\.page) == (1...11).map { Optional($0) })
            #expect(gets.allSatisfy { $0.status == 200 && $0.tenant == "contoso" })
        }
    }

    @Test func skiptokenMustBeFollowedVerbatim() async throws {
        try await Fixture.run(seed: Fixture.bigSeed(count: 30)) { sim, base in
            let token = try await HTTP.token(base, tenant: sim.tenant("contoso")!)
            let first = try await HTTP.get(base + Fixture.deviceConfigurations + "?$top=10", token: token)
            let link = try #require(first.json?["@odata.nextLink"]?.stringValue)
            let tampered = String(link.dropLast(3)) + "xyz"
            #expect(try await HTTP.get(tampered, token: token).status == 400)
            #expect(try await HTTP.get(base + Fixture.deviceConfigurations + "?$skiptoken=10", token: token).status == 400)
            let second = try await HTTP.get(link, token: token)
            #expect(second.status == 200)
            #expect(second.json?["value"]?.arrayValue?.first == sim.items(tenant: "contoso", path: Fixture.deviceConfigurations)![10])
        }
    }

    @Test func defaultPageSizesAndTopCap() async throws {
        let keys = ["settingsCatalogPolicy", "conditionalAccessPolicy", "deviceConfiguration"]
        try await Fixture.run(tenants: ["contoso"], items: 1000, collections: keys.map { SimulatedCollection.intuneDefault(key: $0)! }) { sim, base in
            let token = try await HTTP.token(base, tenant: sim.tenant("contoso")!)
            let catalog = try await HTTP.get(base + Fixture.configurationPolicies, token: token)
            #expect(catalog.json?["value"]?.arrayValue?.count == 25)
            let ca = try await HTTP.get(base + Fixture.conditionalAccess, token: token)
            #expect(ca.json?["value"]?.arrayValue?.count == 100)
            let capped = try await HTTP.get(base + Fixture.deviceConfigurations + "?$top=5000", token: token)
            #expect(capped.json?["value"]?.arrayValue?.count == 999)
            let bad = try await HTTP.get(base + Fixture.deviceConfigurations + "?$top=abc", token: token)
            #expect(bad.status == 400)
        }
    }

    @Test func configuredPageSizes() async throws {
        let config = GraphSimulator.Configuration(pageSizeOverride: 7, pageSizes: [Fixture.conditionalAccess: 3])
        try await Fixture.run(tenants: ["contoso"], items: 20, configuration: config) { sim, base in
            let token = try await HTTP.token(base, tenant: sim.tenant("contoso")!)
            let catalog = try await HTTP.allPages(base + Fixture.configurationPolicies, token: token)
            #expect(catalog.map { $0["value"]!.arrayValue!.count } == [7, 7, 6])
            let ca = try await HTTP.get(base + Fixture.conditionalAccess, token: token)
            #expect(ca.json?["value"]?.arrayValue?.count == 3)
        }
    }

    @Test func missingCollectionsAndUnknownPaths() async throws {
        let only = [SimulatedCollection.intuneDefault(key: "deviceConfiguration")!]
        try await Fixture.run(tenants: ["contoso"], items: 3, collections: only) { sim, base in
            let token = try await HTTP.token(base, tenant: sim.tenant("contoso")!)
            let empty = try await HTTP.get(base + "/beta/deviceManagement/intents", token: token)
            #expect(empty.status == 200)
            #expect(empty.json?["value"] == [])
            #expect(empty.json?["@odata.nextLink"] == nil)
            let unknown = try await HTTP.get(base + "/beta/deviceManagement/noSuchThing", token: token)
            #expect(unknown.status == 404)
            #expect(unknown.json?["error"]?["code"] == "ResourceNotFound")
            let outside = try await HTTP.get(base + "/nowhere", token: token)
            #expect(outside.status == 404)

            // Single items by id.
            let item = sim.items(tenant: "contoso", path: Fixture.deviceConfigurations)![1]
            let id = item["id"]!.stringValue!
            let single = try await HTTP.get(base + Fixture.deviceConfigurations + "/" + id, token: token)
            #expect(single.status == 200)
            #expect(single.json?["id"]?.stringValue == id)
            #expect(try await HTTP.get(base + Fixture.deviceConfigurations + "/nope", token: token).status == 404)
        }
        try await Fixture.run(tenants: ["contoso"], items: 3, collections: only,
                              configuration: .init(missingCollection: .notFound)) { sim, base in
            let token = try await HTTP.token(base, tenant: sim.tenant("contoso")!)
            let missing = try await HTTP.get(base + "/beta/deviceManagement/intents", token: token)
            #expect(missing.status == 404)
            #expect(missing.json?["error"]?["code"] == "ResourceNotFound")
        }
    }
}
