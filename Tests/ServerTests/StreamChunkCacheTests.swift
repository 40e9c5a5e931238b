import AtlasServer
import Foundation
import Synchronization
import Testing

extension StoreReadExecutorTests {
    /// Followers of the whole log at one position share one read of the chunk after it. (Inside
    /// ``StoreReadExecutorTests``, which is serialized: its reads run on the executor those tests
    /// hold whole.)
    @Suite struct StreamChunkCacheTests {
        final class Reads: Sendable {
            let count = Atomic<Int>(0)
        }

        @Test func followersAskingWhileAChunkIsReadGetThatRead() async throws {
            let cache = StreamChunkCache()
            let reads = Reads()
            let gate = DispatchSemaphore(value: 0)
            let full = StreamChunkCache.Chunk(bytes: Array("id: 11\ndata: x\n\n".utf8), last: 11, full: true)
            // The first follower reads (on threads that may block), held until the others wait.
            let reader = Task(executorPreference: StoreReadExecutor.shared) {
                try await cache.chunk(after: 10) {
                    reads.count.add(1, ordering: .relaxed)
                    gate.wait()
                    return full
                }
            }
            try await StoreReadExecutorTests.waitUntil { reads.count.load(ordering: .relaxed) == 1 }
            let others = (0..<9).map { _ in
                Task {
                    try await cache.chunk(after: 10) {
                        reads.count.add(1, ordering: .relaxed)
                        return StreamChunkCache.Chunk(bytes: [], last: 10, full: false)
                    }
                }
            }
            try await StoreReadExecutorTests.waitUntil { cache.waiting(after: 10) == 9 }
            gate.signal()
            #expect(try await reader.value == full)
            for t in others { #expect(try await t.value == full) }
            #expect(reads.count.load(ordering: .relaxed) == 1, "one read for ten followers")
            #expect(cache.chunk(after: 10) == full, "a full chunk is kept")

            // A chunk short of full (the log's end) is handed to those waiting but not kept: the
            // next follower there reads again and may find more.
            let tail = StreamChunkCache.Chunk(bytes: Array("id: 12\ndata: y\n\n".utf8), last: 12, full: false)
            #expect(try await cache.chunk(after: 11) { tail } == tail)
            #expect(cache.chunk(after: 11) == nil)
            #expect(try await cache.chunk(after: 11) { full } == full)
        }

        @Test func aFailedReadIsEachWaitersToRetry() async throws {
            struct Broken: Error {}
            let cache = StreamChunkCache()
            let reads = Reads()
            let gate = DispatchSemaphore(value: 0)
            let reader = Task(executorPreference: StoreReadExecutor.shared) {
                try await cache.chunk(after: 0) {
                    reads.count.add(1, ordering: .relaxed)
                    gate.wait()
                    throw Broken()
                }
            }
            try await StoreReadExecutorTests.waitUntil { reads.count.load(ordering: .relaxed) == 1 }
            let good = StreamChunkCache.Chunk(bytes: [1], last: 1, full: true)
            let waiter = Task {
                try await cache.chunk(after: 0) {
                    reads.count.add(1, ordering: .relaxed)
                    return good
                }
            }
            try await StoreReadExecutorTests.waitUntil { cache.waiting(after: 0) == 1 }
            gate.signal()
            await #expect(throws: Broken.self) { try await reader.value }
            #expect(try await waiter.value == good)
            #expect(reads.count.load(ordering: .relaxed) == 2)
        }
    }
}
