import Foundation
@testable import Sync
import Testing

/// The sync's bulk work runs through ``ParallelMap`` on the ``WorkerPool``: results must be
/// the serial map's, in order, whoever runs which part.
@Suite(.timeLimit(.minutes(1))) struct ParallelMapTests {
    @Test func equalsTheSerialMapWithPerRunState() {
        for count in [0, 1, 63, 64, 65, 1000, 10_007] {
            let items = Array(0..<count)
            // The state counts the items its run saw: each run's items share one.
            let mapped = ParallelMap.map(items, state: { 0 }) { seen, i -> (Int, Int) in
                seen += 1
                return (i * i, seen)
            }
            #expect(mapped.map(\.0) == items.map { $0 * $0 })
            #expect(mapped.allSatisfy { $0.1 >= 1 })
        }
    }

    /// Maps from many tasks at once, and a map inside a map's transform (a helper thread then
    /// works through it alone instead of waiting for itself).
    @Test func concurrentAndNestedMapsFinish() async {
        let results = await withTaskGroup(of: Bool.self) { group in
            for t in 0..<8 {
                group.addTask {
                    let outer = ParallelMap.map(Array(0..<200)) { i in
                        ParallelMap.map(Array(0..<100)) { $0 + i + t }.reduce(0, +)
                    }
                    return outer == (0..<200).map { i in (0..<100).reduce(0) { $0 + $1 + i + t } }
                }
            }
            var all: [Bool] = []
            for await r in group { all.append(r) }
            return all
        }
        #expect(results == Array(repeating: true, count: 8))
    }

    /// The caller works too: with every helper held up, a run still finishes.
    @Test func finishesWhileTheHelpersAreBusy() async throws {
        let pool = WorkerPool.shared
        let release = DispatchSemaphore(value: 0)
        let holding = DispatchSemaphore(value: 0)
        // Occupy every helper (and that run's own caller) with iterations that wait on
        // `release`: each thread blocks in the first one it claims.
        let blocker = Thread {
            pool.run(iterations: pool.width + 2) { i in
                if i > 0 {
                    holding.signal()
                    release.wait()
                }
            }
        }
        blocker.start()
        for _ in 0..<(pool.width + 1) { holding.wait() }
        let mapped = ParallelMap.map(Array(0..<5000)) { $0 * 2 }
        #expect(mapped == (0..<5000).map { $0 * 2 })
        for _ in 0..<(pool.width + 1) { release.signal() }
    }
}
