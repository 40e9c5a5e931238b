import CanonicalJSON
import EventLog
import Foundation
import Inventory
import Sync
import Testing

/// When the store refuses a page (a full disk), the offline source stops and says so
/// (`store_full`) instead of blaming the export file (found by Tools/hardening, disk-full case).
@Suite struct OfflineSinkRefusalTests {
    actor RefusingSink: SourceSink {
        var recorded: [SourceError] = []
        var finished: [String: (Bool, SourceError?)] = [:]
        var pages = 0
        let failure: any Error

        init(failure: any Error) { self.failure = failure }

        nonisolated func observationEncoder(for type: PolicyType) -> ObservationEncoder { OfflineFixture.encoder(for: type) }
        func receive(_ page: ObservationPage, of type: PolicyType) async throws {
            pages += 1
            throw failure
        }
        func record(_ error: SourceError) async { recorded.append(error) }
        func finishType(_ type: PolicyType, complete: Bool, error: SourceError?) async { finished[type.key] = (complete, error) }
    }

    /// Reads a 5,000-item export in pages of 100 into `sink`; returns the types read.
    static func readExport(into sink: any SourceSink) async throws -> [PolicyType] {
        let path = try exportFile(items: 5000)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var source = OfflineExportSource(path: path)
        source.pageSize = 100
        let types = ["deviceConfiguration", "deviceCompliancePolicy"].compactMap(PolicyTypeRegistry.type)
        await source.enumerate(tenant: "contoso", types: types, into: sink)
        return types
    }

    static func exportFile(items: Int) throws -> String {
        let path = NSTemporaryDirectory() + "offline-refusal-\(UUID().uuidString).ndjson"
        let lines = (0..<items).map { #"{"policy_type":"deviceConfiguration","item":{"id":"dc-\#($0)","displayName":"P \#($0)"}}"# }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aFullStoreIsStoreFullNotAnInvalidExportLine() async throws {
        let sink = RefusingSink(failure: EventLogError(.storageFull, "the disk holding the store is full"))
        let types = try await Self.readExport(into: sink)
        let pages = await sink.pages
        #expect(pages == 1, "reading stops at the first refused page")
        let recorded = await sink.recorded
        #expect(recorded.map(\.code) == [.storeFull], "\(recorded)")
        for t in types {
            let f = await sink.finished[t.key]
            #expect(f?.0 == false)
        }
    }
}
