import AtlasServer
import CanonicalJSON
import EventLog
import Foundation
import Inventory
import Testing

/// The JSON API over real HTTP on loopback, against a store the real `atlas` filled.
@Suite(.serialized) struct APITests {
    /// contoso.com: two runs (a3 gone in the second); fabrikam.com: one run. Tokens: admin
    /// (every tenant) and scoped (contoso.com only).
    static func fixture(store: String? = nil) async throws -> (ServerFixture, admin: String, scoped: String) {
        let f = try ServerFixture(store: store)
        try await f.sync("contoso.com", ["a1", "a2", "a3"])
        try await f.sync("fabrikam.com", ["b1", "b2"])
        try await f.sync("contoso.com", ["a1", "a2"], names: ["a2": "Policy a2 renamed"])
        let admin = try await f.token("admin")
        let scoped = try await f.token("scoped", tenants: ["Contoso.com"])
        return (f, admin, scoped)
    }

    @Test func answersTheSameJSONAsTheCLI() async throws {
        let (f, admin, _) = try await Self.fixture()
        let (server, base) = try await f.startServer()
        defer { Task { await server.stop() } }
        try await Self.expectSameJSONAsTheCLI(f, base: base, admin: admin)
        let head = try #require(try await HTTP.get(base + "/api/v1/head", token: admin).json)
        #expect(head["position"]?.int64Value == Int64(try f.readOnlyStore().head().position))
        #expect(try await HTTP.get(base + "/api/v1/health").status == 200)
    }

    /// Every read route of the fixture's server at `base` answers what `atlas … --json` prints
    /// for the same store; the second page follows the first's cursor; a3 is missing.
    static func expectSameJSONAsTheCLI(_ f: ServerFixture, base: String, admin: String) async throws {
        let runs = try await f.atlas(["runs", "--tenant", "contoso.com", "--json"])
        let hash = try #require(try JSONParser().parse(Array(runs.utf8)).arrayValue?.first?["selection_hash"]?.stringValue)
        let runIDs = try JSONParser().parse(Array(runs.utf8)).arrayValue!.compactMap { $0["run_id"]?.stringValue }
        let cases: [(api: String, cli: [String])] = [
            ("/api/v1/tenants", ["tenants", "--json"]),
            ("/api/v1/tenants/contoso.com/runs", ["runs", "--tenant", "contoso.com", "--json"]),
            ("/api/v1/tenants/CONTOSO.com/items?limit=2", ["items", "--tenant", "contoso.com", "--limit", "2", "--json"]),
            ("/api/v1/tenants/contoso.com/items", ["items", "--tenant", "contoso.com", "--limit", "1000", "--json"]),
            ("/api/v1/tenants/contoso.com/missing?selection=\(HTTP.q(ServerFixture.selection))",
             ["missing", "--tenant", "contoso.com", "--selection", ServerFixture.selection, "--json"]),
            ("/api/v1/tenants/contoso.com/missing?selection_hash=\(hash.prefix(10))",
             ["missing", "--tenant", "contoso.com", "--selection-hash", String(hash.prefix(10)), "--json"]),
            ("/api/v1/tenants/contoso.com/items/deviceConfiguration/a3/history",
             ["history", "--tenant", "contoso.com", "--policy-type", "deviceConfiguration", "--id", "a3", "--json"]),
            ("/api/v1/tenants/contoso.com/changes?selection=\(hash)", ["changes", "--tenant", "contoso.com", "--selection", hash, "--json"]),
            ("/api/v1/tenants/contoso.com/changes?selection_hash=\(hash)&from_run=\(runIDs[1])&to_run=\(runIDs[0])",
             ["changes", "--tenant", "contoso.com", "--selection", hash, "--from-run", runIDs[1], "--to-run", runIDs[0], "--json"]),
        ]
        for c in cases {
            let reply = try await HTTP.get(base + c.api, token: admin)
            #expect(reply.status == 200, "\(c.api): \(reply.text)")
            #expect(reply.header("content-type") == "application/json")
            let cli = try await f.atlas(c.cli)
            #expect(reply.text == cli, "\(c.api) differs from atlas \(c.cli.joined(separator: " "))")
        }
        // The second page follows the first's cursor, as the CLI's does.
        let first = try #require(try await HTTP.get(base + "/api/v1/tenants/contoso.com/items?limit=1", token: admin).json)
        let next = try #require(first["next"]?.stringValue)
        let second = try await HTTP.get(base + "/api/v1/tenants/contoso.com/items?limit=1&after=\(next)", token: admin)
        #expect(second.text == (try await f.atlas(["items", "--tenant", "contoso.com", "--limit", "1", "--after", next, "--json"])))
        // The missing item is a3, seen by the first run only.
        let missing = try #require(try await HTTP.get(base + "/api/v1/tenants/contoso.com/missing?selection_hash=\(hash)", token: admin).json)
        #expect(missing["missing"]?.arrayValue?.compactMap { $0["external_id"]?.stringValue } == ["a3"])
    }

    @Test func everyRouteWithoutAValidTokenIs401() async throws {
        let (f, admin, _) = try await Self.fixture()
        try await f.atlas(["token", "revoke", "admin"])
        // An expired token, written as `atlas token create --expires` would, with a past expiry.
        let expired = BearerToken.generate()
        let writable = try LMDBEventStore.open(path: f.store, options: .init(projections: InventoryProjections.all))
        try await writable.append([AccessTokenEvents.created(AccessTokenCreated(
            name: "old", sha256: BearerToken.sha256(expired), tenants: [], expiresAt: Timestamp(millisecondsSinceEpoch: 1_000)))])
        // (The server reads through this same handle: one process opens a store one way.)
        let server = AtlasServer(store: writable, configuration: .init(port: 0), logger: ServerFixture.quietLogger)
        let base = try await server.start()
        defer { Task { await server.stop() } }
        let paths = APIRoute.allCases.filter { !$0.isPublic }.map { route in
            route.template.replacingOccurrences(of: "{tenant}", with: "contoso.com")
                .replacingOccurrences(of: "{policy_type}", with: "deviceConfiguration").replacingOccurrences(of: "{id}", with: "a1")
        }
        #expect(paths.count == APIRoute.allCases.count - 1)
        for path in paths {
            for token in [nil, "atlas_not-a-token", admin, expired, "Basic abc"] as [String?] {
                let reply = try await HTTP.get(base + path + "?selection_hash=0000000000", token: token)
                #expect(reply.status == 401, "\(path) with \(token == nil ? "no token" : "a bad token"): \(reply.status)")
                #expect(reply.header("content-type") == "application/problem+json")
                #expect(reply.header("www-authenticate")?.hasPrefix("Bearer") == true)
                #expect(reply.json?["code"]?.stringValue == "unauthorized")
            }
        }
        // The console, too, sends a visitor without a session to sign in.
        let console = try await HTTP.get(base + "/console/tenants/contoso.com", token: admin)
        #expect(console.status == 303 && console.header("location") == "/console/sign-in")
    }

    @Test func aScopedTokenSeesOnlyItsTenantsEverywhere() async throws {
        let (f, admin, scoped) = try await Self.fixture()
        let (server, base) = try await f.startServer(heartbeat: .milliseconds(300))
        defer { Task { await server.stop() } }
        let tenantRoutes = APIRoute.allCases.filter { $0.template.contains("{tenant}") }
        #expect(tenantRoutes.count == 5)
        for route in tenantRoutes {
            func path(_ tenant: String) -> String {
                base + route.template.replacingOccurrences(of: "{tenant}", with: tenant)
                    .replacingOccurrences(of: "{policy_type}", with: "deviceConfiguration").replacingOccurrences(of: "{id}", with: "b1")
                    + "?selection=\(HTTP.q(ServerFixture.selection))"
            }
            let hidden = try await HTTP.get(path("fabrikam.com"), token: scoped)
            let absent = try await HTTP.get(path("nowhere.example"), token: scoped)
            #expect(hidden.status == 404, "\(route.template): \(hidden.status)")
            #expect(hidden.json?["code"]?.stringValue == "tenant-not-found")
            // Outside the scope looks exactly like not existing.
            #expect(hidden.text.replacingOccurrences(of: "fabrikam.com", with: "X") == absent.text.replacingOccurrences(of: "nowhere.example", with: "X"))
            #expect(try await HTTP.get(path("contoso.com"), token: scoped).status == 200, "\(route.template) in scope")
            // (fabrikam.com has one run, so `changes` has nothing to compare: 409, not 404.)
            #expect(try await HTTP.get(path("fabrikam.com"), token: admin).status == (route == .changes ? 409 : 200), "\(route.template) unscoped")
        }
        let tenants = try #require(try await HTTP.get(base + "/api/v1/tenants", token: scoped).json?.arrayValue)
        #expect(tenants.compactMap { $0["tenant"]?.stringValue } == ["contoso.com"])
        // The stream: another tenant is 404; without a tenant only the scope's events come.
        #expect(try await HTTP.get(base + "/api/v1/events?tenant=fabrikam.com", token: scoped).status == 404)
        let head = try f.readOnlyStore().head().position
        let all = try await SSEReader.collect(base + "/api/v1/events", token: admin) { e, _ in e.last?.id == head }
        let mine = try await SSEReader.collect(base + "/api/v1/events", token: scoped) { _, c in c.contains(": heartbeat") }
            .events
        #expect(mine.count > 0)
        #expect(mine.allSatisfy { $0.data.contains(#""tenant":"contoso.com""#) })
        let expected = all.events.filter { $0.data.contains(#""tenant":"contoso.com""#) }
        #expect(mine == expected)
    }

    @Test func errorsAreProblemDocuments() async throws {
        let (f, admin, _) = try await Self.fixture()
        let (server, base) = try await f.startServer()
        defer { Task { await server.stop() } }
        let cases: [(String, Int, String)] = [
            ("/api/v1/tenants/contoso.com/items?limit=0", 400, "invalid-parameter"),
            ("/api/v1/tenants/contoso.com/items?after=%21%21", 400, "invalid-parameter"),
            ("/api/v1/tenants/contoso.com/items?policy_type=nope", 400, "invalid-parameter"),
            ("/api/v1/tenants/contoso.com/missing", 400, "invalid-parameter"),
            ("/api/v1/tenants/contoso.com/missing?selection=%7B", 400, "invalid-parameter"),
            ("/api/v1/tenants/contoso.com/missing?selection_hash=deadbeef00", 404, "selection-not-found"),
            ("/api/v1/tenants/contoso.com/changes?selection=\(HTTP.q(ServerFixture.selection))&to_run=01a23b39-1e3c-70d5-862d-272a8b61568f", 404, "run-not-found"),
            ("/api/v1/tenants/fabrikam.com/changes?selection=\(HTTP.q(ServerFixture.selection))", 409, "changes-unavailable"),
            ("/api/v1/tenants/contoso.com/items/nope/a1/history", 400, "invalid-parameter"),
            ("/api/v1/nothing", 404, "not-found"),
            ("/api/v1/events?from=minus", 400, "invalid-parameter"),
        ]
        for (path, status, code) in cases {
            let reply = try await HTTP.get(base + path, token: admin)
            #expect(reply.status == status, "\(path): \(reply.text)")
            #expect(reply.header("content-type") == "application/problem+json", "\(path)")
            let p = try #require(reply.json, "\(path)")
            #expect(p["code"]?.stringValue == code, "\(path)")
            #expect(p["status"]?.int64Value == Int64(status))
            #expect(p["type"]?.stringValue == "urn:atlas:problem:\(code)")
            #expect(p["title"]?.stringValue?.isEmpty == false)
            #expect(p["detail"]?.stringValue?.isEmpty == false)
        }
        let post = try await HTTP.request(.POST, base + "/api/v1/tenants", token: admin)
        #expect(post.status == 405 && post.json?["code"]?.stringValue == "method-not-allowed")
    }

    @Test func theOpenAPIDocumentHasEveryRoute() async throws {
        let (f, admin, _) = try await Self.fixture()
        let (server, base) = try await f.startServer()
        defer { Task { await server.stop() } }
        let doc = try #require(try await HTTP.get(base + "/api/v1/openapi.json", token: admin).json)
        guard case .object(let paths)? = doc["paths"] else { Issue.record("no paths"); return }
        for route in APIRoute.allCases {
            #expect(paths[route.template]?["get"] != nil, "\(route.template) is not in openapi.json")
        }
        #expect(Set(paths.keys) == Set(APIRoute.allCases.map(\.template)), "openapi.json documents a path that is not a route")
        #expect(doc["openapi"]?.stringValue == "3.1.0")
    }
}
