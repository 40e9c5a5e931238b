import Synchronization

/// Recently read, already formatted chunks of the unfiltered stream, shared by its followers.
///
/// Followers of the whole log that are at the same position read the same events: the first
/// to get there reads and formats the chunk, and followers asking for it meanwhile wait for
/// that read instead of making their own (on PostgreSQL, 100 followers woken by one commit
/// make one query, not 100). Only full chunks are kept (a chunk is the events after a
/// position, which never change in an append-only log), at most ``capacity`` of them, the
/// oldest dropped first.
package final class StreamChunkCache: Sendable {
    package struct Chunk: Sendable, Equatable {
        /// `id:`/`data:` lines of every event of the chunk.
        package var bytes: [UInt8]
        /// The position of its last event (the position it was read after, when it is empty).
        package var last: UInt64
        /// Whether it holds a whole chunk's events (more may follow at once).
        package var full: Bool

        package init(bytes: [UInt8], last: UInt64, full: Bool) {
            self.bytes = bytes
            self.last = last
            self.full = full
        }
    }

    private struct State {
        var chunks: [UInt64: Chunk] = [:]
        var order: [UInt64] = []
        /// Reads on their way, by the position they read after, with the followers waiting.
        var reading: [UInt64: [CheckedContinuation<Chunk?, Never>]] = [:]
    }

    private let state = Mutex(State())
    package let capacity: Int

    package init(capacity: Int = 64) { self.capacity = capacity }

    /// The chunk after position `after`, if cached.
    package func chunk(after: UInt64) -> Chunk? { state.withLock { $0.chunks[after] } }

    /// The chunk after position `after`: cached, or read by `read`, once however many followers
    /// ask while it runs (they get its result). A full chunk is kept.
    package func chunk(after: UInt64, read: () throws -> Chunk) async throws -> Chunk {
        while true {
            enum Role { case cached(Chunk), reader, waiter }
            let role = state.withLock { s -> Role in
                if let c = s.chunks[after] { return .cached(c) }
                if s.reading[after] != nil { return .waiter }
                s.reading[after] = []
                return .reader
            }
            switch role {
            case .cached(let c):
                return c
            case .reader:
                let result = Result { try read() }
                let waiting = state.withLock { s in
                    if case .success(let c) = result, c.full { keep(after, c, in: &s) }
                    return s.reading.removeValue(forKey: after) ?? []
                }
                // A failed read is each waiter's to retry.
                for w in waiting { w.resume(returning: try? result.get()) }
                return try result.get()
            case .waiter:
                let got = await withCheckedContinuation { (c: CheckedContinuation<Chunk?, Never>) in
                    state.withLock { s in
                        if let chunk = s.chunks[after] {
                            c.resume(returning: chunk)
                        } else if s.reading[after] != nil {
                            s.reading[after]!.append(c)
                        } else {
                            c.resume(returning: nil)  // finished meanwhile without keeping it: ask again
                        }
                    }
                }
                if let got { return got }
            }
        }
    }

    /// How many followers wait for the read of the chunk after `after` now.
    package func waiting(after: UInt64) -> Int { state.withLock { $0.reading[after]?.count ?? 0 } }

    private func keep(_ after: UInt64, _ chunk: Chunk, in s: inout State) {
        guard s.chunks[after] == nil else { return }
        s.chunks[after] = chunk
        s.order.append(after)
        if s.order.count > capacity { s.chunks[s.order.removeFirst()] = nil }
    }
}
