import AtlasTesting
import EventLog
import Foundation
import Inventory
import ReplayKit
import Testing

@Suite struct LiveStoreTests {
    /// verify, audit, export and stats on a store another task appends to: never a false failure.
    @Test func commandsWorkWhileAWriterAppends() async throws {
        let dir = TempDir()
        try await makeStore(dir.store, runs: 4)
        let store = try openStore(dir.store)
        let writer = Task {
            var gen = SyntheticInventory(tenants: ["contoso", "fabrikam", "northwind"], itemsPerType: 10)
            var n = 0
            while !Task.isCancelled && n < 200 {
                try await store.append(gen.nextRun(tenant: gen.tenants[n % 3]))
                n += 1
                try await Task.sleep(nanoseconds: 2_000_000)
            }
            return n
        }
        for _ in 0..<3 {
            let report = try await Verifier(store: store).run()
            #expect(report.status != .failed, "\(report.problems)")
            let audit = try SelectionAudit.run(store, tenant: nil)
            #expect(!audit.flags.contains { $0.kind != .missingDiffers }, "\(audit.flags)")
            #expect(!audit.flags.contains { $0.kind == .missingDiffers }, "\(audit.flags)")
            let stats = try StoreStats.collect(store)
            #expect(stats.events == stats.perTenant.values.reduce(0, +))
        }
        writer.cancel()
        _ = try? await writer.value
        let final = try await Verifier(store: store).run()
        #expect(final.status == .ok, "\(final.problems) \(final.notes)")
    }
}
