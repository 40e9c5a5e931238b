import CommandSupport

/// Follows the log and prints new envelopes as NDJSON (shared by `export --follow` and `tail`).
/// PLACEHOLDER: implemented with the subscriptions work.
enum FollowExport {
    static func run(store: StoreOptions, tenant: String?, typePrefix: String?, from: UInt64?, consumer: String?) async throws {
        throw CommandFailure("following is not built yet")
    }
}
