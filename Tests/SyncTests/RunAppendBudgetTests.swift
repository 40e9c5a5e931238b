import EventLog
import Foundation
import Inventory
import Sync
import Testing

/// A run keeps appends in flight up to a budget of items: whatever the budget (smaller than one
/// append, a few appends, the default), every item is appended once and counted right.
@Suite struct RunAppendBudgetTests {
    @Test(arguments: [1, 700, SyncRunner.Options().itemsInFlight])
    func everyBudgetAppendsEveryItemOnce(itemsInFlight: Int) async throws {
        let f = try OfflineFixture(options: .init(batchSize: 250, itemsInFlight: itemsInFlight))
        let selection = #"{"policy_types":["deviceConfiguration","deviceCompliancePolicy"]}"#
        func lines(changed: Set<Int> = []) -> [String] {
            (0..<3000).map { i in
                OfflineFixture.itemLine(i % 3 == 0 ? "deviceCompliancePolicy" : "deviceConfiguration",
                                        OfflineFixture.item("item-\(i)", extra: changed.contains(i) ? 1 : 0))
            }
        }
        let first = try await f.sync("contoso", selection, lines: lines())
        #expect(first.status == .success && first.observed == 3000 && first.upserted == 3000)
        let again = try await f.sync("contoso", selection, lines: lines(changed: [5, 1500, 2999]))
        #expect(again.status == .success && again.observed == 3000 && again.upserted == 3)
        let queries = InventoryQueries(store: f.store)
        #expect(try queries.items(tenant: "contoso").count == 3000)
        #expect(try f.missing("contoso", selection).missing.isEmpty)
    }
}
