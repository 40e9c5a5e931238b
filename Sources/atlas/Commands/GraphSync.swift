import CommandSupport
import Inventory
import Sync

/// Runs Graph syncs of several tenants concurrently.
enum GraphSync {
    static func run(runner: SyncRunner, tenants: [String], selection: Selection, graphBaseURL: String, loginBaseURL: String,
                    credentialsFile: String?, progress: (@Sendable (String, SourceProgress) -> Void)?) async throws -> [SyncSummary] {
        throw CommandFailure("the Microsoft Graph source is not built yet; use --from-file")
    }
}
