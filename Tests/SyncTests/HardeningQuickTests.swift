import Foundation
import Testing

/// The fast variant of the hardening suite (Tools/hardening, docs/hardening.md): a few
/// `kill -9` trials of `atlas sync` against the Graph simulator, corruption, storage mutation,
/// crash images from a write/sync log, a randomized multi-process history, hostile input and
/// the outside review's findings, each followed by a scan of the store files and all captured
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

    /// The cases run, by `--only` key, and the table row each prints. The two-PID-namespace
    /// finding needs root and unshare(1) (as CI runs); elsewhere it is left out, not skipped
    /// silently inside a passing row.
    static let cases: [(key: String, row: String)] = {
        var cases: [(key: String, row: String)] = [
            ("crash", "crash"), ("map-full", "map-full/resize"), ("corruption", "corruption"), ("mutation", "storage mutation"),
            ("crash-images", "crash images"), ("history", "random histories"), ("hostile", "hostile input"),
            ("f-secret-401", "f: secret in a 401 body"), ("f-http-login", "f: http login URL refused"),
            ("f-lock-symlink", "f: lock.mdb symlink"), ("f-store-0777", "f: 0777 store dir"),
            ("f-lock-deleted", "f: lock.mdb deleted under a writer"), ("f-key-limits", "f: key limits"),
            ("f-two-consumers", "f: two consumers, one name"), ("f-big-selection", "f: 300 MB selection file"),
            ("f-verify-sigterm", "f: verify SIGTERM scratch"),
        ]
        if geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") {
            cases.append(("f-pidns", "f: two PID namespaces"))
        }
        return cases
    }()

    @Test(.timeLimit(.minutes(3))) func quickCrashCorruptionMutationHistoryHostileFindingsAndSecrets() async throws {
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
        // The driver runs for tens of seconds: wait on a thread of its own, not on one of the
        // few threads every other test's async work shares.
        let (stdout, stderr) = await withCheckedContinuation { (done: CheckedContinuation<(String, String), Never>) in
            Thread.detachNewThread {
                let errData = LockedData()
                let reader = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
                reader.start()
                let o = out.fileHandleForReading.readDataToEndOfFile()
                p.waitUntilExit()
                while !errData.isSet { usleep(1000) }
                done.resume(returning: (String(decoding: o, as: UTF8.self), String(decoding: errData.value, as: UTF8.self)))
            }
        }
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

/// Bytes handed from a reader thread.
private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?
    func set(_ d: Data) { lock.withLock { data = d } }
    var isSet: Bool { lock.withLock { data != nil } }
    var value: Data { lock.withLock { data ?? Data() } }
}
