import Foundation
import Testing

/// `atlas sync` checks credentials, URLs, files and the selection before it creates or opens a
/// store: a bad input is exit 2 with a message naming it, and no store directory appears.
@Suite struct SyncEarlyChecksTests {
    static let selection = #"{"policy_types":["deviceConfiguration"]}"#

    /// Runs `atlas sync ARGS` against a store path that does not exist yet; returns what it printed
    /// and whether the store directory appeared.
    static func sync(_ args: [String], env: [String: String] = ["ATLAS_CLIENT_ID": "app", "ATLAS_CLIENT_SECRET": "secret-value-123456"],
                     files: [String: (String, Int)] = [:]) async throws -> (AtlasProcess.Ran, storeCreated: Bool, dir: String) {
        let dir = NSTemporaryDirectory() + "atlas-early-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, (text, mode)) in files {
            FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(text.utf8))
            chmod(dir + "/" + name, mode_t(mode))
        }
        let args = args.map { $0.replacingOccurrences(of: "$DIR", with: dir) }
        let ran = try await AtlasProcess.run(["sync", "--store", dir + "/store"] + args, environment: AtlasProcess.environment(env))
        return (ran, FileManager.default.fileExists(atPath: dir + "/store"), dir)
    }

    @Test func missingCredentialsCreateNoStore() async throws {
        let (ran, created, _) = try await Self.sync(["--tenant", "contoso", "--selection", Self.selection], env: [:])
        #expect(ran.status == 2)
        #expect(ran.stderr.contains("ATLAS_CLIENT_ID") && ran.stderr.contains("ATLAS_CLIENT_SECRET"), "\(ran.stderr)")
        #expect(!created, "no store directory may appear")
    }

    @Test(arguments: ["--login-base-url", "--graph-base-url"])
    func plainHTTPToARemoteHostIsRefusedBeforeAnyConnection(option: String) async throws {
        let (ran, created, _) = try await Self.sync(["--tenant", "contoso", "--selection", Self.selection, option, "http://login.example.invalid"])
        #expect(ran.status == 2)
        #expect(ran.stderr.contains("http://login.example.invalid") && ran.stderr.contains("not https"), "\(ran.stderr)")
        #expect(!created)
    }

    @Test func aCredentialsFileOthersCanReadIsRefused() async throws {
        let (ran, created, dir) = try await Self.sync(["--tenant", "contoso", "--selection", Self.selection, "--credentials-file", "$DIR/creds.json"],
                                                env: [:], files: ["creds.json": (#"{"client_id":"app","client_secret":"file-secret-123456"}"#, 0o644)])
        #expect(ran.status == 2)
        #expect(ran.stderr.contains("chmod 600 \(dir)/creds.json"), "\(ran.stderr)")
        #expect(!ran.stderr.contains("file-secret"))
        #expect(!created)
    }

    @Test func badFilesAndSelectionsCreateNoStore() async throws {
        let cases: [([String], String)] = [
            (["--tenant", "contoso", "--selection", #"{"policy_types":["nope"]}"#], "policy_types"),
            (["--tenants-file", "$DIR/absent.txt", "--selection", Self.selection], "absent.txt"),
            (["--tenant", "contoso", "--selection", Self.selection, "--from-file", "$DIR/absent.ndjson"], "absent.ndjson"),
            (["--tenant", "contoso", "--selection", Self.selection, "--global-limit", "0"], "--global-limit"),
            (["--tenant", "contoso", "--selection", "@$DIR/absent.json"], "absent.json"),
        ]
        for (args, named) in cases {
            let (ran, created, _) = try await Self.sync(args)
            #expect(ran.status == 2, "\(args): \(ran.stderr)")
            #expect(ran.stderr.contains(named), "\(args): \(ran.stderr)")
            #expect(!created, "\(args) created the store")
        }
    }
}
