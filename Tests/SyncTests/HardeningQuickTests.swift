import Foundation
import Testing

/// The fast variant of the hardening suite (Tools/hardening, docs/hardening.md): a few
/// `kill -9` trials of `atlas sync` against the Graph simulator, corruption, storage mutation,
/// crash images from a write/sync log, a randomized multi-process history, hostile input and
/// issue 17's fixed findings, each followed by a scan of the store files and all captured
/// output for the client secret and every bearer token the simulator issued. Runs the suite's
/// driver on the binaries this test run built (no nested `swift build`).
@Suite(.serialized) struct HardeningQuickTests {
    /// The directory holding the built executables beside the test bundle.
    static var binDirectory: URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("atlas").path) && dir.path != "/" {
            dir = dir.deletingLastPathComponent()
        }
        return dir
    }

    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The cases run, by `--only` key, and the table row each prints.
    static let cases: [(key: String, row: String)] = [
        ("crash", "crash"), ("corruption", "corruption"), ("mutation", "storage mutation"),
        ("crash-images", "crash images"), ("history", "random histories"), ("hostile", "hostile input"),
        ("f-secret-401", "f: secret in a 401 body"), ("f-http-login", "f: http login URL refused"),
        ("f-lock-symlink", "f: lock.mdb symlink"), ("f-store-0777", "f: 0777 store dir"),
        ("f-key-limits", "f: key limits"), ("f-verify-sigterm", "f: verify SIGTERM scratch"),
    ]

    @Test(.timeLimit(.minutes(2))) func quickCrashCorruptionMutationHistoryHostileFindingsAndSecrets() throws {
        let bin = Self.binDirectory
        for tool in ["atlas", "atlas-replay", "graph-simulator", "atlas-testkit"] {
            try #require(FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent(tool).path), "\(tool) is not built")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [Self.packageRoot.appendingPathComponent("Tools/hardening/hardening.py").path, "--bin", bin.path,
                       "--quick", "--only", Self.cases.map(\.key).joined(separator: ",")]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let lines = stdout.split(separator: "\n").map(String.init)
        #expect(lines.last == "\(Self.cases.count) passed, 0 failed", "\(stdout)\n\(stderr.suffix(4000))")
        #expect(p.terminationStatus == 0)
        // Every case has its row: trials ran, all survived, nothing lost, nothing leaked.
        for (_, name) in Self.cases {
            let row = lines.first { $0.split(separator: "|").first?.trimmingCharacters(in: .whitespaces) == name }
            let cells = row?.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
            #expect(cells.count == 5 && (Int(cells[1]) ?? 0) > 0 && cells[1] == cells[2] && cells[3] == "0" && cells[4] == "0",
                    "\(name): \(row ?? "no row")")
        }
    }
}
