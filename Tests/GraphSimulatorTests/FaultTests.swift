import CanonicalJSON
import Foundation
import GraphSimulator
import Testing

@Suite struct FaultTests {
    let path = Fixture.deviceConfigurations

    @Test func throttledPageTwoFiresTwiceThenSucceeds() async throws {
        try await Fixture.run(seed: Fixture.bigSeed(count: 250)) { sim, base in
            let token = try await HTTP.token(base, tenant: sim.tenant("contoso")!)
            sim.addFault(tenant: "contoso", path: path, .init(.status(429, retryAfter: "1.5"), times: 2, page: 2))
            let first = try await HTTP.get(base + path + "?$top=100", token: token)
            #expect(first.status == 200)
            let link = try #require(first.json?["@odata.nextLink"]?.stringValue)
            var statuses: [Int] = []
            var retryAfters: [String?] = []
            var page2: HTTP.Reply?
            for _ in 0..<5 {
                let r = try await HTTP.get(link, token: token)
                statuses.append(r.status)
                retryAfters.append(r.headers["retry-after"])
                if r.status == 200 { page2 = r; break }
            }
            #expect(statuses == [429, 429, 200])
            #expect(retryAfters == ["1.5", "1.5", nil])
            let ids = try #require(page2?.json?["value"]?.arrayValue).map { $0["id"]!.stringValue! }
            let stored = sim.items(tenant: "contoso", path: path)!.map { $0["id"]!.stringValue! }
            #expect(ids == Array(stored[100..<200]))
            #expect(sim.faults().isEmpty)
            let log = sim.requests().filter { $0.path == path }
            #expect(log.map(\.page) == [1, 2, 2, 2])
            #expect(log.map(\.status) == [200, 429, 429, 200])
            #expect(log.map(\.fault) == [nil, "status", "status", nil])
        }
    }

    @Test func statusFaultsCarryRetryAfterVerbatim() async throws {
        try await Fixture.run(seed: Fixture.bigSeed(count: 5)) { sim, base in
            let token = try await HTTP.token(base, tenant: sim.tenant("contoso")!)
            let date = "Wed, 21 Oct 2015 07:28:00 GMT"
            sim.addFault(tenant: "contoso", path: path, .init(.status(503, retryAfter: date)))
            sim.addFault(tenant: "contoso", path: path, .init(.status(504)))
            sim.addFault(tenant: "contoso", path: path, .init(.status(500, retryAfter: "0.25")))
            sim.addFault(tenant: "contoso", path: path, .init(.status(429)))
            let a = try await HTTP.get(base + path, token: token)
            #expect(a.status == 503)
            #expect(a.headers["retry-after"] == date)
            #expect(a.json?["error"]?["code"] == "ServiceUnavailable")
            let b = try await HTTP.get(base + path, token: token)
            #expect(b.status == 504)
            #expect(b.headers["retry-after"] == nil)
            let c = try await HTTP.get(base + path, token: token)
            #expect(c.status == 500)
            #expect(c.headers["retry-after"] == "0.25")
            let d = try await HTTP.get(base + path, token: token)
            #expect(d.status == 429)
            #expect(d.headers["retry-after"] == nil)
            #expect(d.json?["error"]?["code"] == "TooManyRequests")
            #expect(try await HTTP.get(base + path, token: token).status == 200)
        }
    }

    @Test func foreverFaultFiresUntilCleared() async throws {
        try await Fixture.run(seed: Fixture.bigSeed(count: 5)) { sim, base in
            let token = try await HTTP.token(base, tenant: sim.tenant("contoso")!)
            sim.addFault(tenant: "contoso", path: path, .init(.forbidden, times: nil))
            for _ in 0..<3 {
                let r = try await HTTP.get(base + path, token: token)
                #expect(r.status == 403)
                #expect(r.json?["error"]?["code"] == "Forbidden")
            }
            #expect(sim.faults().first?.fired == 3)
            #expect(sim.clearFaults(tenant: "contoso", path: path) == 1)
            #expect(try await HTTP.get(base + path, token: token).status == 200)
        }
    }

    @Test func replacementFaults() async throws {
        try await Fixture.run(seed: Fixture.bigSeed(count: 5)) { sim, base in
            let token = try await HTTP.token(base, tenant: sim.tenant("contoso")!)

            sim.addFault(tenant: "contoso", path: path, .init(.unauthorized))
            let unauthorized = try await HTTP.get(base + path, token: token)
            #expect(unauthorized.status == 401)
            #expect(unauthorized.json?["error"]?["code"] == "InvalidAuthenticationToken")

            sim.addFault(tenant: "contoso", path: path, .init(.nonJSON))
            let html = try await HTTP.get(base + path, token: token)
            #expect(html.status == 200)
            #expect(html.headers["content-type"]?.hasPrefix("text/html") == true)
            #expect(html.json == nil)
            #expect(html.text.contains("<html>"))

            sim.addFault(tenant: "contoso", path: path, .init(.missingValue))
            let missing = try await HTTP.get(base + path, token: token)
            #expect(missing.status == 200)
            #expect(missing.json?.objectValue != nil)
            #expect(missing.json?["value"] == nil)

            sim.addFault(tenant: "contoso", path: path, .init(.errorBody200(code: "UnknownError", message: "boom")))
            let errorBody = try await HTTP.get(base + path, token: token)
            #expect(errorBody.status == 200)
            #expect(errorBody.json?["error"]?["code"] == "UnknownError")
            #expect(errorBody.json?["error"]?["message"] == "boom")
            #expect(errorBody.json?["value"] == nil)

            #expect(try await HTTP.get(base + path, token: token).status == 200)
        }
    }

    @Test func pageAlteringFaults() async throws {
        try await Fixture.run(seed: Fixture.bigSeed(count: 30)) { sim, base in
            let token = try await HTTP.token(base, tenant: sim.tenant("contoso")!)
            let url = base + path + "?$top=10"

            sim.addFault(tenant: "contoso", path: path, .init(.itemWithoutId))
            let noID = try await HTTP.get(url, token: token)
            let items = try #require(noID.json?["value"]?.arrayValue)
            #expect(items.count == 10)
            #expect(items.filter { $0["id"] == nil }.count == 1)
            #expect(items[0]["displayName"] != nil)

            sim.addFault(tenant: "contoso", path: path, .init(.foreignNextLink("http://127.0.0.2:9/steal")))
            let foreign = try await HTTP.get(url, token: token)
            #expect(foreign.json?["@odata.nextLink"] == "http://127.0.0.2:9/steal")
            #expect(foreign.json?["value"]?.arrayValue?.count == 10)

            sim.addFault(tenant: "contoso", path: path, .init(.endlessNextLink, times: nil, page: 2))
            let first = try await HTTP.get(url, token: token)
            var link = try #require(first.json?["@odata.nextLink"]?.stringValue)
            var seen: [JSONValue] = []
            for _ in 0..<4 {
                let page = try await HTTP.get(link, token: token)
                #expect(page.status == 200)
                seen.append(page.json!["value"]!)
                link = try #require(page.json?["@odata.nextLink"]?.stringValue)
            }
            #expect(Set(seen).count == 1)
            #expect(sim.requests().suffix(4).allSatisfy { $0.page == 2 && $0.fault == "endless_next_link" })
        }
    }

    @Test func slowFaultDelaysTheAnswer() async throws {
        try await Fixture.run(seed: Fixture.bigSeed(count: 5)) { sim, base in
            let token = try await HTTP.token(base, tenant: sim.tenant("contoso")!)
            sim.addFault(tenant: "contoso", path: path, .init(.slow(seconds: 0.6)))
            let start = Date()
            let r = try await HTTP.get(base + path, token: token)
            #expect(Date().timeIntervalSince(start) >= 0.6)
            #expect(r.status == 200)
            #expect(r.json?["value"]?.arrayValue?.count == 5)
        }
    }

    @Test func resetConnectionAnswersNothing() async throws {
        try await Fixture.run(seed: Fixture.bigSeed(count: 5)) { sim, base in
            let token = try await HTTP.token(base, tenant: sim.tenant("contoso")!)
            sim.addFault(tenant: "contoso", path: path, .init(.resetConnection, times: nil))
            await #expect(throws: (any Error).self) {
                _ = try await HTTP.get(base + path, token: token)
            }
            #expect(sim.requests().last?.status == 0)
            sim.clearFaults()
            #expect(try await HTTP.get(base + path, token: token).status == 200)
        }
    }

    @Test func faultsAreScopedToTenantAndPath() async throws {
        try await Fixture.run { sim, base in
            let tokenA = try await HTTP.token(base, tenant: sim.tenant("contoso")!)
            let tokenB = try await HTTP.token(base, tenant: sim.tenant("fabrikam")!)
            sim.addFault(tenant: "contoso", path: path, .init(.status(429, retryAfter: "1"), times: nil))
            #expect(try await HTTP.get(base + path, token: tokenB).status == 200)
            #expect(try await HTTP.get(base + Fixture.configurationPolicies, token: tokenA).status == 200)
            #expect(try await HTTP.get(base + path, token: tokenA).status == 429)
            sim.addFault(tenant: "*", path: Fixture.conditionalAccess, .init(.forbidden))
            #expect(try await HTTP.get(base + Fixture.conditionalAccess, token: tokenB).status == 403)
        }
    }

    @Test func faultJSONRoundTrips() throws {
        let faults: [SimulatedFault] = [
            .init(.status(429, retryAfter: "1.5"), times: 2, page: 2),
            .init(.status(503), times: nil),
            .init(.forbidden), .init(.unauthorized), .init(.nonJSON), .init(.missingValue), .init(.itemWithoutId),
            .init(.slow(seconds: 0.5)), .init(.foreignNextLink("http://127.0.0.2:9/steal")), .init(.endlessNextLink),
            .init(.errorBody200(code: "X", message: "Y")), .init(.resetConnection),
            .init(.reply(status: 401, body: ["error": "invalid_client", "error_description": "AADSTS7000215"])),
        ]
        for fault in faults {
            #expect(try SimulatedFault(json: fault.jsonValue) == fault)
        }
        let parsed = try SimulatedFault(json: ["kind": "status", "status": 429, "retry_after": "1.5", "times": 2, "page": 2])
        #expect(parsed == .init(.status(429, retryAfter: "1.5"), times: 2, page: 2))
        #expect(try SimulatedFault(json: ["kind": "nonJSON", "times": "forever"]) == .init(.nonJSON, times: nil))
        #expect(throws: SimulatorError.self) { try SimulatedFault(json: ["kind": "explode"]) }
    }
}
