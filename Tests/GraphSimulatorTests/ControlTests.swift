import CanonicalJSON
import Foundation
import GraphSimulator
import Testing

@Suite struct ControlTests {
    let path = Fixture.deviceConfigurations

    @Test func itemsCanBeAddedReplacedAndRemovedOverHTTP() async throws {
        try await Fixture.run(seed: Fixture.bigSeed(count: 3)) { sim, base in
            let token = try await HTTP.token(base, tenant: sim.tenant("contoso")!)
            let added: JSONValue = ["id": "added-1", "@odata.type": "#microsoft.graph.windows10GeneralConfiguration", "displayName": "New"]
            let post = try await HTTP.post(base + "/_sim/items", json: ["tenant": "contoso", "path": .string(path), "item": added])
            #expect(post.status == 200)
            #expect(post.json?["count"] == 4)
            var page = try await HTTP.get(base + path, token: token)
            #expect(page.json?["value"]?.arrayValue?.last == added)

            let replaced: JSONValue = ["id": "added-1", "@odata.type": "#microsoft.graph.windows10GeneralConfiguration", "displayName": "Renamed"]
            _ = try await HTTP.post(base + "/_sim/items", json: ["tenant": "contoso", "path": .string(path), "items": [replaced]])
            page = try await HTTP.get(base + path, token: token)
            #expect(page.json?["value"]?.arrayValue?.count == 4)
            #expect(page.json?["value"]?.arrayValue?.last?["displayName"] == "Renamed")

            let del = try await HTTP.delete(base + "/_sim/items?tenant=contoso&path=\(path)&id=added-1")
            #expect(del.json?["removed"] == true)
            page = try await HTTP.get(base + path, token: token)
            #expect(page.json?["value"]?.arrayValue?.count == 3)
            #expect(sim.items(tenant: "contoso", path: path)?.count == 3)

            _ = try await HTTP.post(base + "/_sim/items", json: ["tenant": "contoso", "path": .string(path), "items": [], "replace": true])
            page = try await HTTP.get(base + path, token: token)
            #expect(page.json?["value"] == [])

            let listed = try await HTTP.get(base + "/_sim/items?tenant=contoso&path=\(path)")
            #expect(listed.json?["value"] == [])
            let tenants = try await HTTP.get(base + "/_sim/tenants")
            #expect(tenants.json?["value"]?.arrayValue?.first?["client_secret"]?.stringValue == sim.tenant("contoso")?.clientSecret)
        }
    }

    @Test func faultsCanBeSetListedAndClearedOverHTTP() async throws {
        try await Fixture.run(seed: Fixture.bigSeed(count: 3)) { sim, base in
            let token = try await HTTP.token(base, tenant: sim.tenant("contoso")!)
            let set = try await HTTP.post(base + "/_sim/faults", json: [
                "tenant": "contoso", "path": .string(path),
                "fault": ["kind": "status", "status": 429, "retry_after": "1.5", "times": 2, "page": 1],
            ])
            #expect(set.status == 200)
            #expect(set.json?["id"]?.intValue != nil)
            let listed = try await HTTP.get(base + "/_sim/faults")
            #expect(listed.json?["value"]?.arrayValue?.first?["fault"]?["retry_after"] == "1.5")
            let throttled = try await HTTP.get(base + path, token: token)
            #expect(throttled.status == 429)
            #expect(throttled.headers["retry-after"] == "1.5")
            let cleared = try await HTTP.delete(base + "/_sim/faults")
            #expect(cleared.json?["removed"] == 1)
            #expect(try await HTTP.get(base + path, token: token).status == 200)

            let invalid = try await HTTP.post(base + "/_sim/faults", json: ["tenant": "contoso", "path": .string(path), "fault": ["kind": "nope"]])
            #expect(invalid.status == 400)
        }
    }

    @Test func tokensCanBeRevokedAndLifetimeChangedOverHTTP() async throws {
        try await Fixture.run(seed: Fixture.bigSeed(count: 3)) { sim, base in
            let tenant = sim.tenant("contoso")!
            let token = try await HTTP.token(base, tenant: tenant)
            let revoked = try await HTTP.post(base + "/_sim/revoke-tokens", json: [:])
            #expect(revoked.json?["revoked"] == 1)
            #expect(try await HTTP.get(base + path, token: token).status == 401)

            _ = try await HTTP.post(base + "/_sim/token-lifetime", json: ["seconds": 0])
            let dead = try await HTTP.token(base, tenant: tenant)
            #expect(try await HTTP.get(base + path, token: dead).status == 401)
            _ = try await HTTP.post(base + "/_sim/token-lifetime", json: ["seconds": 3599])
            let alive = try await HTTP.token(base, tenant: tenant)
            #expect(try await HTTP.get(base + path, token: alive).status == 200)
        }
    }

    @Test func requestLogIsServedOverHTTP() async throws {
        try await Fixture.run(seed: Fixture.bigSeed(count: 3)) { sim, base in
            let token = try await HTTP.token(base, tenant: sim.tenant("contoso")!)
            _ = try await HTTP.get(base + path + "?$top=2", token: token)
            let log = try await HTTP.get(base + "/_sim/requests")
            let entries = try #require(log.json?["value"]?.arrayValue).compactMap(RecordedRequest.init(json:))
            #expect(entries.count == 2)
            #expect(entries[0].path == "/contoso/oauth2/v2.0/token")
            #expect(entries[0].tenant == "contoso")
            #expect(entries[0].hasAuthorization == false)
            #expect(entries[1].path == path)
            #expect(entries[1].query == "$top=2")
            #expect(entries[1].authorization == "Bearer \(token)")
            #expect(entries[1].status == 200)
            #expect(entries[1].page == 1)
            #expect(entries[1].host == String(base.dropFirst("http://".count)))
            #expect(entries[1].timestamp >= entries[0].timestamp)
            let local = sim.requests()
            #expect(entries.map(\.sequence) == local.map(\.sequence))
            #expect(zip(entries, local).allSatisfy { abs($0.timestamp.timeIntervalSince($1.timestamp)) < 0.001 })
            _ = try await HTTP.delete(base + "/_sim/requests")
            #expect(sim.requests().isEmpty)
        }
    }

    @Test func tenantsCanBeAddedOverHTTP() async throws {
        try await Fixture.run(seed: Fixture.bigSeed(count: 1)) { sim, base in
            let tenant = SimulatedTenant(id: "woodgrove", clientID: "wg-app", clientSecret: "wg-secret",
                                         collections: [path: [["id": "w1", "displayName": "W"]]])
            #expect(try await HTTP.post(base + "/_sim/tenants", json: tenant.jsonValue).status == 200)
            let token = try await HTTP.token(base, tenant: tenant)
            let page = try await HTTP.get(base + path, token: token)
            #expect(page.json?["value"] == [["id": "w1", "displayName": "W"]])
        }
    }
}

@Suite struct LifecycleTests {
    @Test func bindFailureThrowsAndRestartWorks() async throws {
        try await Fixture.run(seed: Fixture.bigSeed(count: 1)) { sim, base in
            let port = try #require(sim.port)
            #expect(base == "http://127.0.0.1:\(port)")
            let clash = GraphSimulator(seed: Fixture.bigSeed(count: 1), configuration: .init(port: port))
            await #expect(throws: SimulatorError.self) { try await clash.start() }
            #expect(clash.baseURL == nil)
        }
        let sim = GraphSimulator(seed: Fixture.bigSeed(count: 2))
        let first = try await sim.start()
        await sim.stop()
        #expect(sim.baseURL == nil)
        let second = try await sim.start()
        #expect(try await HTTP.get(second + "/_sim/health").status == 200)
        await sim.stop()
        _ = first
    }
}
