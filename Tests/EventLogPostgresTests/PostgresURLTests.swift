import EventLog
import EventLogPostgres
import Foundation
import Testing

@Suite("PostgreSQL URLs")
struct PostgresURLTests {
    @Test func parsesEveryPartAndPercentDecodes() throws {
        let u = try PostgresURL(parsing: "postgresql://at%40las:p%3Ass%2Fw@db.example.com:6543/inv%20entory?sslmode=verify-full", environment: [:])
        #expect(u.user == "at@las")
        #expect(u.password == "p:ss/w")
        #expect(u.host == "db.example.com")
        #expect(u.port == 6543)
        #expect(u.database == "inv entory")
        #expect(u.sslMode == .verifyFull)
        #expect(!u.description.contains("p:ss"))
        #expect(!u.description.contains("p%3Ass"))
    }

    @Test func defaultsAndEnvironment() throws {
        let u = try PostgresURL(parsing: "postgres://localhost", environment: ["PGUSER": "ops", "PGPASSWORD": "secret"])
        #expect(u.user == "ops")
        #expect(u.password == "secret")
        #expect(u.port == 5432)
        #expect(u.database == "ops")
        #expect(u.sslMode == .prefer)
        let v6 = try PostgresURL(parsing: "postgres://u@[::1]:5433/db?sslmode=disable", environment: [:])
        #expect(v6.host == "::1")
        #expect(v6.port == 5433)
        #expect(v6.sslMode == .disable)
    }

    @Test func readsThePasswordFile() throws {
        let path = NSTemporaryDirectory() + "pgpass-\(UUID().uuidString)"
        try "# comment\nother:*:*:*:nope\ndb.example.com:5432:*:atlas:from\\:file\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let u = try PostgresURL(parsing: "postgres://atlas@db.example.com/inv", environment: ["PGPASSFILE": path])
        #expect(u.password == "from:file")
        let given = try PostgresURL(parsing: "postgres://atlas:url@db.example.com/inv", environment: ["PGPASSFILE": path, "PGPASSWORD": "env"])
        #expect(given.password == "url")
    }

    @Test(arguments: [
        ("mysql://u@h/db", "scheme"),
        ("postgres://u:secret@h:99999/db", "port"),
        ("postgres://u:secret@h:abc/db", "port"),
        ("postgres://u:secret@h/db?sslmode=sometimes", "sslmode"),
        ("postgres://u:secret@h/db?color=blue", "color"),
        ("postgres://u:secret@h/d%ZZb", "database"),
        ("postgres://u:secret@[::1/db", "IPv6"),
    ])
    func badURLsNameTheBadPartAndHideThePassword(_ text: String, _ part: String) {
        do {
            _ = try PostgresURL(parsing: text, environment: [:])
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.code == .invalidOptions)
            #expect(error.message.contains(part), "\(error.message)")
            #expect(!error.message.contains("secret"), "\(error.message)")
        }
    }

    @Test func recognizesPostgresURLs() {
        #expect(PostgresURL.isPostgresURL("postgres://h/db"))
        #expect(PostgresURL.isPostgresURL("POSTGRESQL://h/db"))
        #expect(!PostgresURL.isPostgresURL("/var/lib/atlas"))
        #expect(!PostgresURL.isPostgresURL("postgres-store"))
    }
}
