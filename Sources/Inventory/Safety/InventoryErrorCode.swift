/// The closed set of error codes a sync records.
package enum InventoryErrorCode: String, Sendable, Hashable, CaseIterable, Codable {
    /// Graph answered 429 until the retry budget ran out.
    case graphThrottled = "graph_throttled"
    /// Graph answered 503/504 (or 5xx) until the retry budget ran out.
    case graphUnavailable = "graph_unavailable"
    /// Graph answered 403 for the collection.
    case graphForbidden = "graph_forbidden"
    /// Graph answered 401 even after a fresh token.
    case graphUnauthorized = "graph_unauthorized"
    /// Graph answered 404 for the collection.
    case graphNotFound = "graph_not_found"
    /// A response was not JSON, lacked `value`, or carried an error object.
    case graphBadResponse = "graph_bad_response"
    /// An item lacked a usable `id`.
    case graphItemInvalid = "graph_item_invalid"
    /// A nextLink pointed to another scheme, host or port; it was not followed.
    case graphForeignNextLink = "graph_foreign_next_link"
    /// A nextLink repeated, or paging exceeded its page limit.
    case graphPagingLoop = "graph_paging_loop"
    /// The connection failed or timed out until the retry budget ran out.
    case graphTransport = "graph_transport"
    /// The token endpoint refused the credentials or failed.
    case authFailed = "auth_failed"
    /// An offline export line could not be read.
    case exportLineInvalid = "export_line_invalid"
    /// The exporter reported that it could not enumerate the type.
    case exportTypeFailed = "export_type_failed"
    /// The export does not show that the type was read completely: its `enumerated` marker is
    /// missing, counts other than the item lines read, is repeated, or items follow it.
    case exportIncomplete = "export_incomplete"
    /// An export line named a policy type this build does not support.
    case exportUnknownType = "export_unknown_type"
    /// Another run of the same tenant and selection holds the lock.
    case lockHeld = "lock_held"
    /// The global limit of live runs was reached.
    case concurrencyLimitGlobal = "concurrency_limit_global"
    /// The tenant's limit of live runs was reached.
    case concurrencyLimitTenant = "concurrency_limit_tenant"
    /// The run's process died; the run was finished by the next one.
    case abandoned
    /// The run was cancelled.
    case cancelled
    /// The store is full or the disk is full.
    case storeFull = "store_full"
    /// An unexpected internal failure.
    case internalError = "internal_error"
}
