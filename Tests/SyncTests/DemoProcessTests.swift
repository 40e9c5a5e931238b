import Foundation
import Testing

/// `atlas-demo` end to end with real processes: the built `graph-simulator` and `atlas`, driven
/// through the simulator's control endpoints, tell the demo's story, and the store it leaves
/// verifies.
@Suite struct DemoProcessTests {
    static var demoBinary: String {
        URL(fileURLWithPath: CrossProcessRunTests.atlasBinary).deletingLastPathComponent().appendingPathComponent("atlas-demo").path
    }

    @Test func demoSyncsTwiceAndReportsTheDeletionAndTheThrottledType() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("atlas-demo-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = dir.appendingPathComponent("store").path

        let ran = try await AtlasProcess.run(["--store", store, "--items-per-collection", "4"], binary: Self.demoBinary)
        #expect(ran.status == 0, "\(ran.stderr)")
        let out = ran.stdout
        #expect(out.hasPrefix("Graph simulator listening on http://127.0.0.1:"))
        #expect(out.contains("with 3 tenants, 4 policies per collection"))

        // The deletion in contoso is missing at high confidence after the second sync.
        let deletion = try #require(out.firstMatch(of: /deleted deviceConfiguration ([0-9a-f-]{36}) of contoso/)).1
        let contoso = try #require(Self.section(out, "contoso.onmicrosoft.com"))
        #expect(contoso.contains("inventory: 36 items — "))
        #expect(contoso.contains("confidence: high"))
        #expect(contoso.contains("missing (1):"))
        #expect(contoso.contains("deviceConfiguration  \(deletion)"))

        // fabrikam's throttled compliance policies are unknown, not missing: the run is partial.
        let fabrikam = try #require(Self.section(out, "fabrikam.onmicrosoft.com"))
        #expect(fabrikam.contains("partial"))
        #expect(fabrikam.contains("graph_throttled"))
        #expect(fabrikam.contains("confidence: LOW"))
        #expect(fabrikam.contains("missing (0):"))
        #expect(fabrikam.contains("unknown (4)"))

        let northwind = try #require(Self.section(out, "northwind.onmicrosoft.com"))
        #expect(northwind.contains("missing (0):"))
        #expect(northwind.contains("unknown (0)"))
        #expect(out.contains("atlas-replay verify --store \(store)"))

        let verify = try await AtlasProcess.run(["verify", "--store", store], binary: AtlasProcess.replayBinary)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    /// The lines after `== TENANT` up to the next blank line.
    static func section(_ out: String, _ tenant: String) -> String? {
        guard let start = out.range(of: "\n== \(tenant)\n") else { return nil }
        let rest = out[start.upperBound...]
        return String(rest[..<(rest.range(of: "\n\n")?.lowerBound ?? rest.endIndex)])
    }
}
