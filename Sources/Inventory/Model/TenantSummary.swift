package import CanonicalJSON
import EventLog

/// One tenant of a store, as `atlas tenants` lists it.
package struct TenantSummary: Sendable, Hashable {
    package var tenant: String
    /// Rows in the tenant's last-seen inventory.
    package var items: Int
    /// The tenant's sync runs.
    package var runs: Int
    /// The newest run (by run id, which is time-ordered).
    package var latestRun: SyncRun?

    package init(tenant: String, items: Int, runs: Int, latestRun: SyncRun?) {
        self.tenant = tenant
        self.items = items
        self.runs = runs
        self.latestRun = latestRun
    }

    /// The row as JSON (snake_case keys).
    package var json: JSONValue {
        .object([
            "tenant": .string(tenant), "items": .number(Double(items)), "runs": .number(Double(runs)),
            "latest_run_id": latestRun.map { .string($0.runID) } ?? .null,
            "latest_status": latestRun.map { .string($0.status.rawValue) } ?? .null,
            "latest_started_at": latestRun?.startedAt.map { .string($0.description) } ?? .null,
            "latest_finished_at": latestRun?.finishedAt.map { .string($0.description) } ?? .null,
        ])
    }
}
