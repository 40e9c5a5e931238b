import CanonicalJSON
import Foundation
import GraphSimulator
import Testing

@Suite struct AuthTests {
    @Test func missingOrUnknownTokenIs401() async throws {
        try await Fixture.run { sim, base in
            let none = try await HTTP.get(base + Fixture.configurationPolicies)
            #expect(none.status == 401)
            #expect(none.json?["error"]?["code"] == "InvalidAuthenticationToken")
            #expect(none.headers["www-authenticate"] != nil)
            let forged = try await HTTP.get(base + Fixture.configurationPolicies, token: "sim.forged")
            #expect(forged.status == 401)
            #expect(forged.json?["error"]?["code"] == "InvalidAuthenticationToken")
            let log = sim.requests()
            #expect(log.count == 2)
            #expect(log[0].hasAuthorization == false)
            #expect(log[1].authorization == "Bearer sim.forged")
            #expect(log.allSatisfy { $0.status == 401 && $0.tenant == nil })
        }
    }

    @Test func tenantATokenReadsOnlyTenantA() async throws {
        try await Fixture.run { sim, base in
            let tokenA = try await HTTP.token(base, tenant: sim.tenant("contoso")!)
            let tokenB = try await HTTP.token(base, tenant: sim.tenant("fabrikam")!)
            let pageA = try await HTTP.allPages(base + Fixture.deviceConfigurations, token: tokenA)
            let pageB = try await HTTP.allPages(base + Fixture.deviceConfigurations, token: tokenB)
            let idsA = Set(pageA.flatMap { $0["value"]!.arrayValue! }.compactMap { $0["id"]?.stringValue })
            let idsB = Set(pageB.flatMap { $0["value"]!.arrayValue! }.compactMap { $0["id"]?.stringValue })
            let storedA = Set(sim.items(tenant: "contoso", path: Fixture.deviceConfigurations)!.compactMap { $0["id"]?.stringValue })
            let storedB = Set(sim.items(tenant: "fabrikam", path: Fixture.deviceConfigurations)!.compactMap { $0["id"]?.stringValue })
            #expect(idsA == storedA)
            #expect(idsB == storedB)
            #expect(idsA.isDisjoint(with: idsB))
            #expect(idsA.count == 30)

            // A skiptoken issued to tenant A is rejected with tenant B's token.
            let firstA = try await HTTP.get(base + Fixture.deviceConfigurations + "?$top=5", token: tokenA)
            let next = try #require(firstA.json?["@odata.nextLink"]?.stringValue)
            let stolen = try await HTTP.get(next, token: tokenB)
            #expect(stolen.status == 400)
            #expect(sim.requests().last?.tenant == "fabrikam")
        }
    }
}
