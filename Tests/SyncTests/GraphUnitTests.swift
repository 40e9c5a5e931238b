import Foundation
import Inventory
@testable import Sync
import Testing

@Suite("Graph source: credentials, endpoints, retry policy")
struct GraphUnitTests {
    @Test("Retry-After: delta seconds with decimals, IMF-fixdate, junk")
    func retryAfterParsing() {
        let now = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
        #expect(RetryPolicy.retryAfterSeconds("2.128", now: now) == 2.128)
        #expect(RetryPolicy.retryAfterSeconds(" 120 ", now: now) == 120)
        #expect(RetryPolicy.retryAfterSeconds("0", now: now) == 0)
        #expect(RetryPolicy.retryAfterSeconds("Sun, 06 Nov 1994 08:49:40 GMT", now: now) == 3)
        #expect(RetryPolicy.retryAfterSeconds("Sun, 06 Nov 1994 08:49:30 GMT", now: now) == 0)
        #expect(RetryPolicy.retryAfterSeconds("Tue, 29 Feb 2000 00:00:00 GMT", now: Date(timeIntervalSince1970: 951_782_400)) == 0)
        #expect(RetryPolicy.retryAfterSeconds("Wed, 01 Mar 2000 00:00:01 GMT", now: Date(timeIntervalSince1970: 951_868_800)) == 1)
        for junk in ["", "-1", "1e3", "1.", ".5", "1.2.3", "soon", "nan", "inf", "Sun, 06 Nov 1994 08:49:40 PST", "06 Nov 1994"] {
            #expect(RetryPolicy.retryAfterSeconds(junk, now: now) == nil, "\(junk)")
        }
    }

    @Test("waits: Retry-After capped at maxWait; backoff jittered within the exponential ceiling")
    func waits() {
        let p = RetryPolicy(maxAttempts: 8, initialBackoff: .seconds(1), maxWait: .seconds(60), budget: .seconds(300))
        #expect(p.wait(retry: 0, retryAfter: "2.5") == .seconds(2.5))
        #expect(p.wait(retry: 0, retryAfter: "3600") == .seconds(60))
        for retry in 0..<10 {
            let ceiling = min(60, pow(2, Double(retry)))
            for _ in 0..<50 {
                let w = p.wait(retry: retry, retryAfter: nil)
                #expect(w >= .zero && w <= .seconds(ceiling))
            }
        }
        #expect(p.wait(retry: 0, retryAfter: "garbage") <= .seconds(1))
        let defaults = RetryPolicy()
        #expect(defaults.maxAttempts == 8 && defaults.initialBackoff == .seconds(1) && defaults.maxWait == .seconds(60) && defaults.budget == .seconds(300))
    }

    @Test("credentials from the environment and from a file; errors never show the secret")
    func credentials() throws {
        let c = try GraphCredentials.fromEnvironment(["ATLAS_CLIENT_ID": "app", "ATLAS_CLIENT_SECRET": "s3cr3t~value"])
        #expect(c.clientID == "app" && c.clientSecret == "s3cr3t~value")
        #expect(!"\(c)".contains("s3cr3t"))
        #expect(!String(reflecting: c).contains("s3cr3t"))
        #expect(throws: GraphConfigurationError.self) { try GraphCredentials.fromEnvironment(["ATLAS_CLIENT_ID": "app"]) }
        do {
            _ = try GraphCredentials.fromEnvironment([:])
        } catch {
            #expect(error.message.contains("ATLAS_CLIENT_ID") && error.message.contains("ATLAS_CLIENT_SECRET"))
        }

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("atlas-cred-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("good.json")
        try Data(#"{"client_id":"app","client_secret":"file-secret-1"}"#.utf8).write(to: good)
        chmod(good.path, 0o600)
        #expect(try GraphCredentials.load(file: good.path) == GraphCredentials(clientID: "app", clientSecret: "file-secret-1"))
        let bad = dir.appendingPathComponent("bad.json")
        try Data(#"{"client_id":"app","client_secret":"file-secret-2""#.utf8).write(to: bad)
        chmod(bad.path, 0o600)
        do {
            _ = try GraphCredentials.load(file: bad.path)
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("not valid JSON"))
            #expect(!error.message.contains("file-secret-2"))
        }
        let noSecret = dir.appendingPathComponent("nosecret.json")
        try Data(#"{"client_id":"app"}"#.utf8).write(to: noSecret)
        chmod(noSecret.path, 0o600)
        #expect(throws: GraphConfigurationError.self) { try GraphCredentials.load(file: noSecret.path) }
        #expect(throws: GraphConfigurationError.self) { try GraphCredentials.load(file: dir.appendingPathComponent("absent.json").path) }
    }

    @Test("a credentials file group or others may access is refused, naming chmod 600", arguments: [0o644, 0o640, 0o604, 0o660, 0o602])
    func looseCredentialsFile(mode: Int) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("atlas-cred-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(#"{"client_id":"app","client_secret":"loose-secret-123456"}"#.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, mode_t(mode))
        do {
            _ = try GraphCredentials.load(file: path)
            Issue.record("mode \(String(mode, radix: 8)) was accepted")
        } catch {
            #expect(error.message.contains("chmod 600 \(path)") && error.message.contains(String(mode, radix: 8)), "\(error.message)")
            #expect(!error.message.contains("loose-secret"))
        }
        chmod(path, 0o400)
        #expect(try GraphCredentials.load(file: path).clientSecret == "loose-secret-123456")
    }

    @Test("https only, except loopback hosts", arguments: [
        ("http://login.example.invalid", false), ("http://graph.microsoft.com", false), ("http://10.0.0.1:8080", false),
        ("http://127.0.0.2", true), ("http://127.255.0.1:9", true), ("http://localhost:8080", true), ("http://[::1]:8080", true),
        ("http://128.0.0.1", false), ("http://127.0.0.1.example.com", false), ("http://[::2]", false), ("https://login.example.invalid", true),
        ("HTTP://login.example.invalid", false),
    ])
    func httpsOnlyExceptLoopback(url: String, accepted: Bool) throws {
        for (graph, login) in [(url, "https://login.microsoftonline.com"), ("https://graph.microsoft.com", url)] {
            do {
                _ = try GraphEndpoints(graphBaseURL: graph, loginBaseURL: login)
                #expect(accepted, "\(url) was accepted")
            } catch {
                #expect(!accepted, "\(url): \(error.message)")
                #expect(error.message.contains(url) && error.message.contains("not https"), "\(error.message)")
            }
        }
    }

    @Test("endpoints: defaults, trailing slashes, invalid URLs")
    func endpoints() throws {
        let d = GraphEndpoints.production
        #expect(d.graphBaseURL == "https://graph.microsoft.com" && d.loginBaseURL == "https://login.microsoftonline.com")
        let e = try GraphEndpoints(graphBaseURL: "http://127.0.0.1:8080/", loginBaseURL: "http://127.0.0.1:8080//")
        #expect(e.graphBaseURL == "http://127.0.0.1:8080" && e.loginBaseURL == "http://127.0.0.1:8080")
        #expect(e.graphOrigin == URLOrigin(string: "http://127.0.0.1:8080/v1.0/x?$skiptoken=1"))
        #expect(e.graphOrigin != URLOrigin(string: "http://127.0.0.1:8081/v1.0/x"))
        #expect(e.graphOrigin != URLOrigin(string: "https://127.0.0.1:8080/v1.0/x"))
        #expect(URLOrigin(string: "https://GRAPH.microsoft.com/beta") == URLOrigin(string: "https://graph.microsoft.com:443/x"))
        for bad in ["graph.microsoft.com", "ftp://x", "https://u:p@graph.microsoft.com", "https://graph.microsoft.com?x=1", ""] {
            #expect(throws: GraphConfigurationError.self) { try GraphEndpoints(graphBaseURL: bad) }
        }
    }

    @Test("the token form is percent-encoded")
    func formEncoding() {
        let form = TokenProvider.formEncode([("client_secret", "a+b/c=d&e f~._-"), ("scope", "https://graph.microsoft.com/.default")])
        #expect(form == "client_secret=a%2Bb%2Fc%3Dd%26e%20f~._-&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default")
    }
}
