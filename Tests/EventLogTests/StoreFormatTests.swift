import CanonicalJSON
import Crypto
import EventLog
import Foundation
import Testing

/// Store formats: new stores are format 2 (each event's digest is chained); a format-1 store
/// (each event's JSON chained) keeps its format when this build appends to it, whatever path
/// made the events; other languages' readers verify both.
@Suite struct StoreFormatTests {
    /// Events of both kinds: from envelopes (digested by the writer) and from a template
    /// (digested where they were made).
    static func mixedEvents(_ n: Int) throws -> [EncodedEvent] {
        let template = try EventTemplate(type: "test.templated", tenant: "acme", correlationID: "c")
        return try (0..<n).map { i in
            if i % 2 == 0 { return try EncodedEvent(makeEvent(n: i)) }
            let payload = Array(#"{"i":\#(i)}"#.utf8)
            return try template.event(dataBytes: payload.count, hint: nil) { $0.copyBytes(from: payload) }
        }
    }

    @Test func newStoresAreFormatTwo() async throws {
        let path = tempPath()
        let store = try openStore(path)
        #expect(store.formatVersion == 2 && LMDBEventStore.newestFormat == 2)
        _ = try await store.append(encoded: try Self.mixedEvents(40), precondition: nil)
        let raw = try allRawEvents(store)
        #expect(raw.count == 40)
        let head = try store.head()
        #expect(verifyChain(raw, format: 2) == head.chainHash.bytes)
        // Not format 1's chain.
        #expect(ChainHash.next(after: .genesis, position: 1, json: raw[0].json.withUnsafeBytes { $0 }) != raw[0].chainHash)
    }

    @Test func formatOneStoresKeepTheirChain() async throws {
        let path = tempPath()
        do {
            let store = try LMDBEventStore.open(path: path, options: .init(create: true, formatVersion: 1))
            #expect(store.formatVersion == 1)
            _ = try await store.append(encoded: try Self.mixedEvents(30), precondition: nil)
        }
        waitUntilClosed(path)
        // Reopened by default (which would create format 2): still format 1, appended to as such.
        let store = try openStore(path)
        #expect(store.formatVersion == 1)
        _ = try await store.append(encoded: try Self.mixedEvents(30), precondition: nil)
        _ = try await store.append([makeEvent(n: 99)])
        let raw = try allRawEvents(store)
        #expect(raw.count == 61)
        let head = try store.head()
        #expect(verifyChain(raw, format: 1) == head.chainHash.bytes)

        let python = try await PythonReaderTests.interpreter()
        let out = try await run(python, [PythonReaderTests.script, path])
        #expect(out.status == 0, "\(out.stderr)")
        let summary = try JSONDecoder().decode(PythonReaderTests.Summary.self, from: Data(out.stdout.utf8))
        #expect(summary.format_version == 1 && summary.events == 61 && summary.head == head.chainHash.hex)
    }

    @Test func formatOptionsOutsideTheKnownOnesAreRefused() {
        for v in [0, 3, -1] {
            let path = tempPath()
            expectCode(.invalidOptions) { _ = try LMDBEventStore.open(path: path, options: .init(create: true, formatVersion: v)) }
            #expect(!FileManager.default.fileExists(atPath: path + "/data.mdb"), "nothing created for format \(v)")
        }
    }
}
