import CanonicalJSON
import Foundation
import GraphSimulator
import Testing

/// Runs the `graph-simulator` executable as a child process, the way tests in other processes use it.
@Suite struct ExecutableTests {
    /// The built executable next to the test bundle (`swift test` builds it).
    static var executable: URL? {
        var candidates: [URL] = []
        let bundle = Bundle.main.bundleURL
        candidates.append(bundle.deletingLastPathComponent().appendingPathComponent("graph-simulator"))
        candidates.append(bundle.appendingPathComponent("graph-simulator"))
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/graph-simulator"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    @Test func printsURLServesAndStopsOnSIGTERM() async throws {
        let binary = try #require(Self.executable, "graph-simulator executable not built")
        let dump = FileManager.default.temporaryDirectory.appendingPathComponent("graph-sim-seed-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: dump) }
        let process = Process()
        process.executableURL = binary
        process.arguments = ["--port", "0", "--generate-tenants", "contoso,fabrikam", "--items-per-collection", "30",
                             "--seed-value", "11", "--dump-seed", dump.path, "--page-size", "10"]
        let stdout = Pipe()
        process.standardOutput = stdout
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        // Read exactly one line.
        var line = Data()
        let handle = stdout.fileHandleForReading
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(text.hasPrefix("listening on http://127.0.0.1:"))
        let base = String(text.dropFirst("listening on ".count))

        let seed = try SimulatorSeed(contentsOf: dump)
        #expect(seed == SimulatorSeed.generate(tenants: ["contoso", "fabrikam"], itemsPerCollection: 30, seed: 11))
        let token = try await HTTP.token(base, tenant: seed.tenant("fabrikam")!)
        let pages = try await HTTP.allPages(base + Fixture.deviceConfigurations, token: token)
        #expect(pages.count == 3)
        let fault = try await HTTP.post(base + "/_sim/faults", json: [
            "tenant": "fabrikam", "path": .string(Fixture.deviceConfigurations), "fault": ["kind": "forbidden"],
        ])
        #expect(fault.status == 200)
        #expect(try await HTTP.get(base + Fixture.deviceConfigurations, token: token).status == 403)

        process.terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 0)
    }
}
