/// Limits and timings of a ``GraphSource``.
package struct GraphSourceOptions: Sendable, Hashable {
    /// Retries of throttled, unavailable and failed requests.
    package var retry: RetryPolicy
    /// Longest time for one request, from sending it to its last body byte.
    package var requestTimeout: Duration
    /// Longest time to connect (only for a client the source creates).
    package var connectTimeout: Duration
    /// Largest response body; a larger one is `graph_bad_response`.
    package var maxResponseBytes: Int
    /// Most pages read for one type; more is `graph_paging_loop`.
    package var maxPagesPerType: Int
    /// Types of one tenant read at once.
    package var typeConcurrency: Int
    /// Deepest JSON nesting accepted in a page.
    package var maxJSONDepth: Int

    /// Options; the defaults suit production Graph (100 s per request, 64 MiB bodies, 100,000 pages, 4 types at once).
    package init(retry: RetryPolicy = RetryPolicy(), requestTimeout: Duration = .seconds(100), connectTimeout: Duration = .seconds(10),
                maxResponseBytes: Int = 64 << 20, maxPagesPerType: Int = 100_000, typeConcurrency: Int = 4, maxJSONDepth: Int = 256) {
        self.retry = retry
        self.requestTimeout = requestTimeout
        self.connectTimeout = connectTimeout
        self.maxResponseBytes = max(1024, maxResponseBytes)
        self.maxPagesPerType = max(1, maxPagesPerType)
        self.typeConcurrency = max(1, typeConcurrency)
        self.maxJSONDepth = max(8, maxJSONDepth)
    }
}
