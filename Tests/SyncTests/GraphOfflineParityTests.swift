import CanonicalJSON
import EventLog
import Foundation
import Inventory
import Sync
import Testing

/// The Graph path and the offline path observe identical items identically: the same
/// `item_observed` payload bytes (content hash, whitelisted metadata, dropped count), item by
/// item, whether the objects arrive as Graph pages or as export lines.
@Suite struct GraphOfflineParityTests {
    typealias H = GraphHarness

    @Test("the items the simulator serves give the same payloads through Graph pages and an offline export")
    func sameObservations() async throws {
        let types = [H.settingsCatalog, H.deviceConfiguration, H.compliance]
        try await H.with(items: 250, collections: types) { h in
            let graph = RecordingSink()
            await h.source.enumerate(tenant: H.tenant, types: types, into: graph)
            // The same objects as export lines (the simulator serves them in its own member order).
            var export: [UInt8] = []
            for t in types {
                let objects = h.simulator.items(tenant: H.tenant, path: t.versionedPath) ?? []
                #expect(objects.count == 250)
                for o in objects {
                    export += #"{"policy_type":"\#(t.key)","item":"#.utf8
                    export += try CanonicalJSON.serialize(o)
                    export += "}\n".utf8
                }
                export += #"{"policy_type":"\#(t.key)","enumerated":{"count":\#(objects.count)}}"#.utf8 + [10]
            }
            let path = h.directory.appendingPathComponent("export.ndjson").path
            try Data(export).write(to: URL(fileURLWithPath: path))
            let offline = RecordingSink()
            await OfflineExportSource(path: path).enumerate(tenant: H.tenant, types: types, into: offline)
            let graphErrors = await graph.errors, offlineErrors = await offline.errors
            #expect(graphErrors.isEmpty && offlineErrors.isEmpty)
            for t in types {
                let g = await graph.payloads[t.key] ?? [], o = await offline.payloads[t.key] ?? []
                #expect(g.count == 250)
                #expect(g == o, "\(t.key): the paths' payloads differ")
            }
        }
    }
}
