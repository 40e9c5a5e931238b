import CanonicalJSON
import EventLog
import Foundation
import Inventory
import Sync
import Testing

/// The offline source hands each type's items over in file order, a page per type for each
/// block of lines; blocks start small (so the log's writer starts at once) and double up to
/// the page size.
@Suite struct OfflinePagingTests {
    actor RecordingSink: SourceSink {
        var pages: [String: [[String]]] = [:]
        var finished: [String: Bool] = [:]
        var sizes: [String: [Int]] { pages.mapValues { $0.map(\.count) } }

        nonisolated func observationEncoder(for type: PolicyType) -> ObservationEncoder { OfflineFixture.encoder(for: type) }
        func receive(_ page: ObservationPage, of type: PolicyType) async throws {
            #expect(page.rejected.isEmpty)
            pages[type.key, default: []].append(page.observations.map(\.externalID))
        }
        func record(_ error: SourceError) async { Issue.record("unexpected error \(error)") }
        func finishType(_ type: PolicyType, complete: Bool, error: SourceError?) async { finished[type.key] = complete }
    }

    /// 1,000 items of one type and 300 of another, interleaved (every fourth line) until the
    /// second runs out.
    static let lines: [(type: String, id: String)] = {
        var lines: [(String, String)] = []
        var (dc, cp) = (0, 0)
        while dc < 1000 || cp < 300 {
            if lines.count % 4 == 3 && cp < 300 || dc == 1000 {
                lines.append(("deviceCompliancePolicy", "cp-\(cp)"))
                cp += 1
            } else {
                lines.append(("deviceConfiguration", "dc-\(dc)"))
                dc += 1
            }
        }
        return lines
    }()

    static func exportFile() throws -> String {
        let path = NSTemporaryDirectory() + "offline-paging-\(UUID().uuidString).ndjson"
        let text = lines.map { #"{"policy_type":"\#($0.type)","item":{"id":"\#($0.id)","displayName":"D"}}"# }
            + [OfflineFixture.markerLine("deviceConfiguration", count: 1000), OfflineFixture.markerLine("deviceCompliancePolicy", count: 300)]
        try (text.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The page sizes the documented rule gives for page size 64: blocks of 8, 16, 32, then 64
    /// lines, each block's items of a type in one page.
    static func expectedPages(_ type: String) -> [Int] {
        var pages: [Int] = []
        var (start, size) = (0, 8)
        while start < lines.count {
            let n = lines[start..<min(lines.count, start + size)].filter { $0.type == type }.count
            if n > 0 { pages.append(n) }
            start += size
            size = min(64, 2 * size)
        }
        return pages
    }

    /// Reads the export in pages of at most 64 into `sink`.
    static func read(into sink: any SourceSink) async throws {
        let path = try exportFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var source = OfflineExportSource(path: path)
        source.pageSize = 64
        let types = ["deviceConfiguration", "deviceCompliancePolicy"].compactMap(PolicyTypeRegistry.type)
        await source.enumerate(tenant: "contoso", types: types, into: sink)
    }

    @Test func aPagePerTypeForEachBlockAndBlocksDouble() async throws {
        let sink = RecordingSink()
        try await Self.read(into: sink)
        let pages = await sink.pages
        let dc = try #require(pages["deviceConfiguration"])
        #expect(dc.map(\.count) == Self.expectedPages("deviceConfiguration"))
        #expect(dc.first?.count == 6 && dc.allSatisfy { $0.count <= 64 })
        #expect(dc.flatMap { $0 } == (0..<1000).map { "dc-\($0)" }, "file order")
        let cp = try #require(pages["deviceCompliancePolicy"])
        #expect(cp.map(\.count) == Self.expectedPages("deviceCompliancePolicy"))
        #expect(cp.first?.count == 2)
        #expect(cp.flatMap { $0 } == (0..<300).map { "cp-\($0)" })
        #expect(await sink.finished == ["deviceConfiguration": true, "deviceCompliancePolicy": true])
    }
}
