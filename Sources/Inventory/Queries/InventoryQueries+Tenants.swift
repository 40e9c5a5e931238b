import CanonicalJSON
import EventLog

extension InventoryQueries {
    /// Every tenant with a run in the store, in byte order, with its item count, run count and
    /// newest run. Reads the `runs` and `items` projections by tenant prefix, skipping from one
    /// tenant to the next, in one read transaction.
    package func tenants() throws -> [TenantSummary] {
        try store.read { r in
            var out: [TenantSummary] = []
            for tenant in try Self.tenantNames(in: r) {
                let prefix = InventoryKeys.tenantPrefix(tenant)
                var runs = 0
                try r.scan(SyncRunsProjection.runs, prefix: prefix) { _, _ in runs += 1; return true }
                var latest: SyncRun?
                try r.scan(SyncRunsProjection.runs, prefix: prefix, from: nil, reverse: true) { _, v in
                    latest = try SyncRun(json: try JSONParser().parse(v))
                    return false
                }
                var items = 0
                try r.scan(ItemsProjection.table, prefix: prefix) { _, _ in items += 1; return true }
                out.append(TenantSummary(tenant: tenant, items: items, runs: runs, latestRun: latest))
            }
            return out
        }
    }

    /// Whether `tenant` (canonical form) has a run in the store: one seek.
    package func hasTenant(_ tenant: String) throws -> Bool {
        try store.read { r in
            var found = false
            try r.scan(SyncRunsProjection.runs, prefix: InventoryKeys.tenantPrefix(tenant)) { _, _ in
                found = true
                return false
            }
            return found
        }
    }

    /// The names of the tenants with a run, in byte order.
    package func tenantNames() throws -> [String] {
        try store.read { r in try Self.tenantNames(in: r) }
    }

    /// Distinct tenants of the `runs` table: one seek per tenant (to tenant ‖ 0x01, past all
    /// of its tenant ‖ 0x00 ‖ run id keys).
    static func tenantNames(in r: any KeyValueReader) throws -> [String] {
        var names: [String] = []
        var from: [UInt8]? = nil
        while true {
            var next: [UInt8]? = nil
            try r.scan(SyncRunsProjection.runs, prefix: [], from: from, reverse: false) { k, _ in
                if let zero = k.firstIndex(of: 0) { next = Array(k[..<zero]) }
                return false
            }
            guard let tenant = next else { break }
            names.append(String(decoding: tenant, as: UTF8.self))
            from = tenant + [1]
        }
        return names
    }
}
