import CommandSupport
import Inventory
import Logging
import Sync

/// Runs Graph syncs of several tenants concurrently through one source (one HTTP client, one
/// token cache per tenant) and one store (its writer groups the runs' appends into commits).
enum GraphSync {
    /// The endpoints of `graphBaseURL` and `loginBaseURL` (https, or http on loopback only);
    /// a usage error naming the URL otherwise. Checked before any store is opened.
    static func endpoints(graphBaseURL: String, loginBaseURL: String) throws -> GraphEndpoints {
        do { return try GraphEndpoints(graphBaseURL: graphBaseURL, loginBaseURL: loginBaseURL) } catch {
            throw CommandFailure.usage("\(error)")
        }
    }

    /// The credentials from `credentialsFile` or the environment, with core dumps turned off
    /// first; a usage error otherwise. Checked before any store is opened.
    static func credentials(file credentialsFile: String?) throws -> GraphCredentials {
        do {
            try CoreDumps.disable()
            return try credentialsFile.map { try GraphCredentials.load(file: $0) } ?? GraphCredentials.fromEnvironment()
        } catch {
            throw CommandFailure.usage("\(error)")
        }
    }

    static func run(runner: SyncRunner, tenants: [String], selection: Selection, credentials: GraphCredentials, endpoints: GraphEndpoints,
                    logger: Logger, progress: (@Sendable (String, SourceProgress) -> Void)?) async throws -> [SyncSummary] {
        let source = GraphSource(credentials: credentials, endpoints: endpoints, logger: logger)
        let results = await run(runner: runner, tenants: tenants, selection: selection, source: source, progress: progress)
        try? await source.shutdown()
        return try results.map { try $0.get() }
    }

    /// Runs every tenant concurrently; results are in `tenants` order.
    static func run(runner: SyncRunner, tenants: [String], selection: Selection, source: any InventorySource,
                    progress: (@Sendable (String, SourceProgress) -> Void)?) async -> [Result<SyncSummary, any Error>] {
        // One task per tenant; cancelling the caller cancels them all.
        let tasks = tenants.map { tenant in
            Task { try await runner.run(tenant: tenant, selection: selection, source: source, progress: progress) }
        }
        return await withTaskCancellationHandler {
            var results: [Result<SyncSummary, any Error>] = []
            for task in tasks { results.append(await task.result) }
            return results
        } onCancel: {
            for task in tasks { task.cancel() }
        }
    }
}
