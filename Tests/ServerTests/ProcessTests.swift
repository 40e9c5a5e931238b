import AsyncHTTPClient
import AtlasServer
import AtlasTesting
import EventLog
import Foundation
import Inventory
import NIOCore
import NIOSSL
import Testing

/// `atlas serve` and `atlas token` as real processes.
@Suite(.serialized) struct ProcessTests {
    /// Reads the child's stdout until its first line.
    static func firstLine(_ p: Process) async -> String {
        await withCheckedContinuation { done in
            DispatchQueue.global().async {
                let handle = (p.standardOutput as! Pipe).fileHandleForReading
                var bytes: [UInt8] = []
                while true {
                    let chunk = handle.readData(ofLength: 1)
                    if chunk.isEmpty || chunk.first == 10 { break }
                    bytes.append(chunk.first!)
                }
                done.resume(returning: String(decoding: bytes, as: UTF8.self))
            }
        }
    }

    @Test func servesAndExitsZeroOnSIGTERM() async throws {
        let f = try ServerFixture()
        try await f.sync("contoso.com", ["a1", "a2"])
        let token = try await f.token("ops")
        let p = try ServerFixture.start(["serve", "--store", f.store, "--port", "0"])
        let line = await Self.firstLine(p)
        #expect(line.hasPrefix("listening on http://127.0.0.1:"))
        let base = String(line.dropFirst("listening on ".count))
        #expect(try await HTTP.get(base + "/api/v1/health").status == 200)
        let tenants = try await HTTP.get(base + "/api/v1/tenants?x=1", token: token)
        #expect(tenants.status == 200)
        #expect(tenants.text.contains("contoso.com"))
        // An open event stream does not hold shutdown up.
        let stream = Task { try await SSEReader.collect(base + "/api/v1/events", token: token, timeout: .seconds(30)) { _, _ in false } }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        kill(p.processIdentifier, SIGTERM)
        let out = await ChildOutput.collect(p)
        #expect(out.status == 0, "\(String(decoding: out.stderr, as: UTF8.self))")
        #expect(ContinuousClock.now - started < .seconds(10))
        _ = try? await stream.value
        // Each request is logged with its token's name, never the token or the query.
        let log = String(decoding: out.stderr, as: UTF8.self)
        #expect(log.contains("GET /api/v1/tenants 200"))
        #expect(log.contains("token=ops"))
        #expect(!log.contains(token))
        #expect(!log.contains("x=1"))
    }

    @Test func refusesANonLoopbackBindWithoutTLS() async throws {
        let f = try ServerFixture()
        try await f.sync("contoso.com", ["a1"])
        let r = try await ServerFixture.run(["serve", "--store", f.store, "--bind", "0.0.0.0", "--port", "0"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--insecure-http"))
        let half = try await ServerFixture.run(["serve", "--store", f.store, "--tls-cert", "/nonexistent.pem"])
        #expect(half.status == 2)
    }

    @Test func tokensAreCreatedListedAndRevokedAsEvents() async throws {
        let f = try ServerFixture()
        try await f.sync("contoso.com", ["a1"])
        let created = try await ServerFixture.run(["token", "create", "--store", f.store, "--name", "auditor", "--tenant", "Contoso.com", "--expires", "30"])
        #expect(created.status == 0)
        let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("atlas_") && token.count == 6 + 43)
        // A second active token of the same name is refused; so is a bad name.
        #expect(try await ServerFixture.run(["token", "create", "--store", f.store, "--name", "auditor"]).status == 2)
        #expect(try await ServerFixture.run(["token", "create", "--store", f.store, "--name", "no spaces"]).status == 2)
        let list = try await f.atlas(["token", "list", "--json"])
        #expect(list.contains(#""name":"auditor""#) && list.contains(#""state":"active""#) && list.contains(#""tenants":["contoso.com"]"#))
        #expect(!list.contains(token))
        // The log records the creation and the revocation with the hash, never the token.
        try await f.atlas(["token", "revoke", "auditor"])
        #expect(try await f.atlas(["token", "list", "--json"]).contains(#""state":"revoked""#))
        #expect(try await ServerFixture.run(["token", "revoke", "--store", f.store, "auditor"]).status == 2)
        #expect(try await ServerFixture.run(["token", "revoke", "--store", f.store, "nobody"]).status == 2)
        let raws = try f.readOnlyStore().rawEvents(from: 1, limit: 10_000).map { String(decoding: $0.json, as: UTF8.self) }
        #expect(raws.contains { $0.contains(#""type":"access.token_created""#) && $0.contains(#""name":"auditor""#) })
        #expect(raws.contains { $0.contains(#""type":"access.token_revoked""#) })
        #expect(!raws.contains { $0.contains(token) })
        let data = try Data(contentsOf: URL(fileURLWithPath: f.store + "/data.mdb"))
        #expect(data.range(of: Data(token.utf8)) == nil, "the token is nowhere in the store's file")
        // The revoked name may be reused.
        #expect(try await ServerFixture.run(["token", "create", "--store", f.store, "--name", "auditor"]).status == 0)
    }

    @Test func readCommandsStillAnswerWhenOnlyTheAccessTokensProjectionIsBehind() async throws {
        let f = try ServerFixture()
        try await f.sync("contoso.com", ["a1"])
        // A writer that does not know the access_tokens projection (a build before it) appends.
        let older = try LMDBEventStore.open(path: f.store, options: .init(projections: InventoryProjections.all.filter { $0.name != "access_tokens" }))
        try await older.append([AccessTokenEvents.created(AccessTokenCreated(
            name: "x", sha256: String(repeating: "0", count: 64), tenants: [], expiresAt: nil))])
        let items = try await ServerFixture.run(["items", "--tenant", "contoso.com", "--store", f.store, "--json"])
        #expect(items.status == 0, "\(items.stderr)")
        #expect(items.stdout.contains(#""external_id":"a1""#))
        for args in [["serve", "--port", "0"], ["token", "list"]] {
            let r = try await ServerFixture.run(args + ["--store", f.store])
            #expect(r.status == 2, "\(args)")
            #expect(r.stderr.contains("access_tokens") && r.stderr.contains("atlas-replay rebuild"), "\(r.stderr)")
        }
    }

    @Test func servesHTTPSWithTheCertificateGiven() async throws {
        let f = try ServerFixture()
        try await f.sync("contoso.com", ["a1"])
        let token = try await f.token("tls")
        let (cert, key) = (f.dir + "/cert.pem", f.dir + "/key.pem")
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1",
                             "-keyout", key, "-out", cert]
        openssl.standardOutput = Pipe()
        openssl.standardError = Pipe()
        try openssl.run()
        let made = await ChildOutput.collect(openssl)
        try #require(made.status == 0, "openssl could not make a test certificate: \(String(decoding: made.stderr, as: UTF8.self))")
        let p = try ServerFixture.start(["serve", "--store", f.store, "--port", "0", "--bind", "0.0.0.0", "--tls-cert", cert, "--tls-key", key])
        let line = await Self.firstLine(p)
        #expect(line.hasPrefix("listening on https://0.0.0.0:"), "a non-loopback bind is allowed with TLS")
        let port = line.split(separator: ":").last.map(String.init) ?? ""
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        var request = HTTPClientRequest(url: "https://127.0.0.1:\(port)/api/v1/tenants")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        try await client.shutdown()
        #expect(response.status.code == 200)
        #expect(String(buffer: body).contains("contoso.com"))
        kill(p.processIdentifier, SIGTERM)
        #expect(await ChildOutput.collect(p).status == 0)
    }
}
