import CanonicalJSON
import Foundation
import GraphSimulator
import Testing

@Suite struct TokenTests {
    @Test func validCredentialsGetABearerToken() async throws {
        try await Fixture.run { sim, base in
            let tenant = sim.tenant("contoso")!
            let reply = try await HTTP.postForm("\(base)/contoso/oauth2/v2.0/token", [
                ("grant_type", "client_credentials"), ("client_id", tenant.clientID),
                ("client_secret", tenant.clientSecret), ("scope", "https://graph.microsoft.com/.default"),
            ])
            #expect(reply.status == 200)
            let json = try #require(reply.json)
            #expect(json["token_type"] == "Bearer")
            #expect(json["expires_in"] == 3599)
            #expect(json["ext_expires_in"] == 3599)
            let token = try #require(json["access_token"]?.stringValue)
            #expect(token.count > 20)
            let page = try await HTTP.get(base + Fixture.configurationPolicies, token: token)
            #expect(page.status == 200)
            #expect(sim.requests().first?.tenant == "contoso")
        }
    }

    @Test func badSecretIs401InvalidClient() async throws {
        try await Fixture.run { sim, base in
            let tenant = sim.tenant("contoso")!
            let reply = try await HTTP.postForm("\(base)/contoso/oauth2/v2.0/token", [
                ("grant_type", "client_credentials"), ("client_id", tenant.clientID),
                ("client_secret", "wrong"), ("scope", "https://graph.microsoft.com/.default"),
            ])
            #expect(reply.status == 401)
            #expect(reply.json?["error"] == "invalid_client")
            #expect(reply.json?["error_description"]?.stringValue?.hasPrefix("AADSTS7000215: Invalid client secret provided") == true)
            #expect(reply.json?["error_codes"] == [7_000_215])

            // Another tenant's valid secret is still a bad secret here.
            let other = sim.tenant("fabrikam")!
            let cross = try await HTTP.postForm("\(base)/contoso/oauth2/v2.0/token", [
                ("grant_type", "client_credentials"), ("client_id", other.clientID),
                ("client_secret", other.clientSecret), ("scope", "https://graph.microsoft.com/.default"),
            ])
            #expect(cross.status == 401)
            #expect(cross.json?["error"] == "invalid_client")
        }
    }

    @Test func unknownTenantIs400AndBadScopeOrGrantIs400() async throws {
        try await Fixture.run { sim, base in
            let tenant = sim.tenant("contoso")!
            let unknown = try await HTTP.postForm("\(base)/nobody/oauth2/v2.0/token", [
                ("grant_type", "client_credentials"), ("client_id", tenant.clientID),
                ("client_secret", tenant.clientSecret), ("scope", "https://graph.microsoft.com/.default"),
            ])
            #expect(unknown.status == 400)
            #expect(unknown.json?["error_description"]?.stringValue?.hasPrefix("AADSTS90002") == true)
            let scope = try await HTTP.postForm("\(base)/contoso/oauth2/v2.0/token", [
                ("grant_type", "client_credentials"), ("client_id", tenant.clientID),
                ("client_secret", tenant.clientSecret), ("scope", "User.Read"),
            ])
            #expect(scope.status == 400)
            #expect(scope.json?["error"] == "invalid_scope")
            let grant = try await HTTP.postForm("\(base)/contoso/oauth2/v2.0/token", [
                ("grant_type", "password"), ("client_id", tenant.clientID),
                ("client_secret", tenant.clientSecret), ("scope", "https://graph.microsoft.com/.default"),
            ])
            #expect(grant.status == 400)
            #expect(grant.json?["error"] == "unsupported_grant_type")
        }
    }

    @Test func expiredTokenIs401() async throws {
        // Expiry is fixed when a token is issued, so a long-lived token proves "valid until it
        // expires" and a short-lived one proves "401 after it expires", whatever the load.
        try await Fixture.run(configuration: .init(tokenLifetime: 3599)) { sim, base in
            let lasting = try await HTTP.token(base, tenant: sim.tenant("contoso")!)
            #expect(try await HTTP.get(base + Fixture.configurationPolicies, token: lasting).status == 200)
            sim.setTokenLifetime(1)
            let short = try await HTTP.token(base, tenant: sim.tenant("contoso")!)
            try await Task.sleep(for: .milliseconds(1200))
            let expired = try await HTTP.get(base + Fixture.configurationPolicies, token: short)
            #expect(expired.status == 401)
            #expect(expired.json?["error"]?["code"] == "InvalidAuthenticationToken")
            #expect(try await HTTP.get(base + Fixture.configurationPolicies, token: lasting).status == 200)
            sim.setTokenLifetime(3599)
            let fresh = try await HTTP.token(base, tenant: sim.tenant("contoso")!)
            #expect(try await HTTP.get(base + Fixture.configurationPolicies, token: fresh).status == 200)
        }
    }

    @Test func revokedTokensAre401UntilRefreshed() async throws {
        try await Fixture.run { sim, base in
            let tenant = sim.tenant("contoso")!
            let token = try await HTTP.token(base, tenant: tenant)
            #expect(sim.revokeTokens() == 1)
            #expect(try await HTTP.get(base + Fixture.configurationPolicies, token: token).status == 401)
            let fresh = try await HTTP.token(base, tenant: tenant)
            #expect(try await HTTP.get(base + Fixture.configurationPolicies, token: fresh).status == 200)
        }
    }

    @Test func tokenEndpointFaults() async throws {
        try await Fixture.run { sim, base in
            sim.addFault(tenant: "contoso", path: GraphSimulator.tokenFaultPath, .init(.status(503, retryAfter: "2"), times: 1))
            let tenant = sim.tenant("contoso")!
            let fields = [
                ("grant_type", "client_credentials"), ("client_id", tenant.clientID),
                ("client_secret", tenant.clientSecret), ("scope", "https://graph.microsoft.com/.default"),
            ]
            let first = try await HTTP.postForm("\(base)/contoso/oauth2/v2.0/token", fields)
            #expect(first.status == 503)
            #expect(first.headers["retry-after"] == "2")
            let second = try await HTTP.postForm("\(base)/contoso/oauth2/v2.0/token", fields)
            #expect(second.status == 200)
        }
    }
}
