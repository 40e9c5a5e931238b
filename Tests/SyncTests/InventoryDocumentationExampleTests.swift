import EventLog
import Foundation
@testable import Inventory
import Testing

/// The example of Inventory's documentation (Inventory.docc/Inventory.md) on a store with two
/// runs of one selection: the query part runs as written.
@Suite struct InventoryDocumentationExampleTests {
    @Test func overviewExampleAnswersMissing() async throws {
        let h = try History()
        let selection = try SelectionParser.parse(#"{"policy_types":["deviceCompliancePolicy"]}"#).selection
        _ = try await h.run(selection, items: ["deviceCompliancePolicy": ["x", "y"]])
        _ = try await h.run(selection, items: ["deviceCompliancePolicy": ["x"]])

        let queries = InventoryQueries(store: h.store)
        let report = try queries.missing(tenant: "contoso", selection: selection)
        #expect(!report.lowConfidence)
        #expect(report.missing.map(\.externalID) == ["y"])
        #expect(report.unknown.isEmpty)
    }
}
