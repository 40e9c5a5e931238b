import CanonicalJSON
import EventLog
import Foundation
import Inventory
import Testing

/// `atlas sync --json` reports the log's head after the run, so an operator can ship it to
/// another system on every run.
@Suite(.serialized) struct SyncHeadTests {
    typealias X = CrossProcessRunTests

    @Test func syncJSONReportsTheHead() async throws {
        let env = try await X.start(tenants: ["contoso"], slowSeconds: nil)
        let r = try await CLIFormatTests.atlas(env, ["sync", "--tenant", "contoso", "--selection", X.selection, "--json"])
        #expect(r.status == 0, "\(r.err)")
        let summary = try JSONParser().parse(r.out.trimmingCharacters(in: .whitespacesAndNewlines))
        let head = try LMDBEventStore.open(path: env.store, options: .init(readOnly: true, projections: InventoryProjections.all)).head()
        #expect(head.position > 0)
        #expect(summary["head"]?["position"]?.doubleValue == Double(head.position), "\(r.out)")
        #expect(summary["head"]?["chain"]?.stringValue == head.chainHash.hex, "\(r.out)")
    }
}
