import Foundation
import Testing

/// `--store` / `ATLAS_STORE` values that are PostgreSQL URLs name a server, never a directory:
/// when no server answers there, every command refuses them (exit 2), naming the URL without its
/// password, and creates nothing.
@Suite struct StoreLocationTests {
    static let selection = #"{"policy_types":["deviceConfiguration"]}"#

    @Test func aPostgresURLIsNotADirectory() async throws {
        let dir = TempDir()
        let export = dir.path + "/export.ndjson"
        #expect(FileManager.default.createFile(atPath: export, contents: Data()))
        // Port 1 on loopback: nothing listens there.
        let url = "postgres://atlas:s3cret@127.0.0.1:1/inventory?sslmode=disable"
        let shown = "postgres://atlas@127.0.0.1:1/inventory?sslmode=disable"
        let runs: [(tool: String, args: [String], env: [String: String])] = [
            ("atlas", ["sync", "--tenant", "contoso", "--selection", Self.selection, "--from-file", export, "--store", url], [:]),
            ("atlas", ["tenants", "--store", url], [:]),
            ("atlas", ["items", "--tenant", "contoso"], ["ATLAS_STORE": url]),
            ("atlas-replay", ["stats"], ["ATLAS_STORE": url]),
            ("atlas-replay", ["rebuild", "--store", url], [:]),
            ("atlas-replay", ["tail", "--store", url], [:]),
            ("atlas-replay", ["verify", "--store", url], [:]),
        ]
        for run in runs {
            let r = try await runTool(run.args, tool: run.tool, environment: run.env, directory: dir.path)
            let what = "\(run.tool) \(run.args[0])"
            #expect(r.status == 2, "\(what): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains(shown), "\(what): \(r.stderr)")
            #expect(!r.stderr.contains("s3cret"), "\(what) shows the password: \(r.stderr)")
        }
        // Upper case and the postgresql:// spelling name a server too.
        let r = try await runTool(["tenants", "--store", "PostgreSQL://127.0.0.1:1/inventory?sslmode=disable"], tool: "atlas", directory: dir.path)
        #expect(r.status == 2)
        #expect(r.stderr.contains("postgres://postgres@127.0.0.1:1/inventory?sslmode=disable"), "\(r.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(left == ["export.ndjson"], "nothing created beside the export: \(left)")
    }
}
