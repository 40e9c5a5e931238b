/// Why an HTTP exchange produced no usable response.
enum GraphTransportFailure: Error, Sendable {
    /// The task was cancelled.
    case cancelled
    /// The body exceeded the byte limit.
    case tooLarge(limit: Int)
    /// The connection failed, was reset or timed out; retryable.
    case connection(String)
}
