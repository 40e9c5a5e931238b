import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import Inventory
import NIOCore
import Synchronization

extension AtlasServer {
    static let lastEventID = HTTPField.Name("Last-Event-ID")!

    /// `GET /api/v1/events`: the log as Server-Sent Events. Each event's `id:` is its position
    /// and its `data:` the line `atlas-replay export` writes. Resumes after `Last-Event-ID` (or
    /// `?from=`); `?tenant=` and `?type=` filter, within the token's scope.
    func eventStream(_ r: IncomingRequest, grant: AccessGrant) throws -> Response {
        var after: UInt64 = 0
        if let text = r.headers[Self.lastEventID] ?? r.parameter("from") {
            guard let n = UInt64(text.trimmingCharacters(in: .whitespaces)) else {
                throw APIProblem(.invalidParameter, "Last-Event-ID / from \"\(text.prefix(32))\" is not a log position")
            }
            after = n
        }
        var tenant: String?
        if let t = r.parameter("tenant"), !t.isEmpty { tenant = try visibleTenantForStream(t, grant: grant) }
        let types = (r.query["type"] ?? []).filter { !$0.isEmpty }
        let request = EventStreamRequest(after: after, tenant: tenant, typePrefixes: types, scope: grant.tenants)
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        return Response(status: .ok, headers: headers, body: ResponseBody { [self] writer in
            try await withTaskExecutorPreference(self.readExecutor) {
                try await self.stream(request, to: &writer)
            }
            try await writer.finish(nil)
        })
    }

    /// A tenant filter of the stream: scope is enforced; a tenant with no runs yet may still be
    /// followed by an unscoped token (its first run is what the follower waits for).
    private func visibleTenantForStream(_ text: String, grant: AccessGrant) throws -> String {
        guard let tenant = try? TenantID(text).value, grant.allows(tenant) else { throw APIProblem.tenantNotFound(text) }
        if grant.tenants != nil, !(try queries.hasTenant(tenant)) { throw APIProblem.tenantNotFound(text) }
        return tenant
    }

    /// Writes events as they come until the client goes away or the server shuts down. Reads
    /// at most ``ServerConfiguration/streamChunk`` events per short read transaction and holds
    /// no transaction while writing; a slow client only slows its own loop (the writes wait
    /// for the connection), so its memory stays one chunk. A stream caught up with the head
    /// waits for it to move (``StreamHead``: one read of the head per poll interval for every
    /// stream of the server). Followers of the whole log share the chunks they read
    /// (``StreamChunkCache``): one read per chunk for followers at the same position.
    func stream(_ request: EventStreamRequest, to writer: inout any ResponseBodyWriter) async throws {
        var after = request.after
        var lastWrite = ContinuousClock.now
        // After a full chunk more events may follow at once: read on without asking for the head.
        var readFullChunk = false
        try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
        while !closing.load(ordering: .relaxed) {
            // The whole log, unfiltered: a full chunk another follower already formatted.
            if request.matchesAll, let shared = streamChunks.chunk(after: after) {
                try await writer.write(ByteBuffer(bytes: shared.bytes))
                after = shared.last
                lastWrite = .now
                readFullChunk = true
                continue
            }
            guard try readFullChunk || streamHead.position(of: store, maxAge: configuration.pollInterval) > after else {
                if ContinuousClock.now - lastWrite >= configuration.heartbeat {
                    try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                    lastWrite = .now
                }
                try await Task.sleep(for: configuration.pollInterval)
                continue
            }
            let from = after
            let chunk = request.matchesAll
                ? try await streamChunks.chunk(after: from) { try readChunk(request, after: from) }
                : try readChunk(request, after: from)
            after = chunk.last
            readFullChunk = chunk.full
            streamHead.saw(after)
            if !chunk.bytes.isEmpty {
                try await writer.write(ByteBuffer(bytes: chunk.bytes))
                lastWrite = .now
            }
        }
    }

    /// The events after `after` (a chunk of them) that `request` matches, as SSE lines.
    private func readChunk(_ request: EventStreamRequest, after: UInt64) throws -> StreamChunkCache.Chunk {
        let batch = try store.rawEvents(from: after + 1, limit: configuration.streamChunk)
        var out: [UInt8] = []
        var last = after
        for raw in batch {
            last = raw.position
            if !request.matchesAll {
                guard let header = raw.json.withUnsafeBytes(EnvelopeHeader.read) else { continue }
                guard request.matches(tenant: header.tenant, type: header.type) else { continue }
            }
            out += "id: ".utf8
            out += String(raw.position).utf8
            out += "\ndata: ".utf8
            raw.appendExportLine(to: &out)
            out += [10, 10]
        }
        return .init(bytes: out, last: last, full: batch.count == configuration.streamChunk)
    }
}
