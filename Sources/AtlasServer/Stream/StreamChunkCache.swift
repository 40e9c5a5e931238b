import Synchronization

/// Recently read, already formatted chunks of the unfiltered stream, shared by its followers.
///
/// Followers of the whole log that are at the same position read the same events; the first
/// to get there reads and formats the chunk, the others take its bytes. Only full chunks are
/// kept (a chunk is the events after a position, which never change in an append-only log), at
/// most ``capacity`` of them, the oldest dropped first.
final class StreamChunkCache: Sendable {
    struct Chunk: Sendable {
        /// `id:`/`data:` lines of every event of the chunk.
        var bytes: [UInt8]
        /// The position of its last event.
        var last: UInt64
    }

    private struct State {
        var chunks: [UInt64: Chunk] = [:]
        var order: [UInt64] = []
    }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int = 64) { self.capacity = capacity }

    /// The chunk after position `after`, if cached.
    func chunk(after: UInt64) -> Chunk? { state.withLock { $0.chunks[after] } }

    /// Keeps the full chunk after position `after`.
    func store(after: UInt64, _ chunk: Chunk) {
        state.withLock { s in
            guard s.chunks[after] == nil else { return }
            s.chunks[after] = chunk
            s.order.append(after)
            if s.order.count > capacity { s.chunks[s.order.removeFirst()] = nil }
        }
    }
}
