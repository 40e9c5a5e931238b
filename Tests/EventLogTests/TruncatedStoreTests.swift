import EventLog
import Foundation
import Testing

/// A `data.mdb` cut short must be refused with an error on open, never read into a SIGBUS
/// (found by Tools/hardening, corruption case).
@Suite struct TruncatedStoreTests {
    @Test(arguments: [0.3, 0.6, 0.9])
    func truncatedDataFileIsRefusedOnOpen(fraction: Double) async throws {
        let path = tempPath()
        do {
            let store = try openStore(path)
            for b in 0..<20 {
                _ = try await store.append((0..<50).map { makeEvent(n: b * 50 + $0) })
            }
        }
        waitUntilClosed(path)
        let file = path + "/data.mdb"
        let size = try #require((try FileManager.default.attributesOfItem(atPath: file))[.size] as? NSNumber).intValue
        #expect(truncate(file, off_t(Double(size) * fraction)) == 0)
        for readOnly in [true, false] {
            do {
                let store = try openStore(path, create: false, readOnly: readOnly)
                // If it opened, reading everything must still not crash.
                _ = try? allRawEvents(store)
                Issue.record("a data.mdb truncated to \(Int(fraction * 100)) % opened (readOnly \(readOnly))")
            } catch let e as EventLogError {
                #expect(e.code == .storage)
                #expect(e.message.contains("truncated"), "\(e)")
            }
            waitUntilClosed(path)
        }
    }
}
