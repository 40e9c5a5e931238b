import Foundation

/// Maps a collection on every core: the sync's per-item work (parsing export lines, canonical
/// hash, observation, event bytes) is pure, so a page's items are split into up to 64
/// contiguous runs, taken by the caller and the ``WorkerPool``'s helpers.
enum ParallelMap {
    /// Items below which one thread is used: splitting costs more than it saves.
    static let minimumParallelItems = 64

    static func map<C: RandomAccessCollection, T>(_ items: C, _ transform: (C.Element) -> T) -> [T] where C.Index == Int {
        map(items, state: { () }, { (_: inout Void, item) in transform(item) })
    }

    /// Maps with a scratch value per run (`state` makes one; each run's items share it), for
    /// work that reuses a buffer from item to item.
    static func map<C: RandomAccessCollection, S, T>(
        _ items: C, state: () -> S, _ transform: (inout S, C.Element) -> T
    ) -> [T] where C.Index == Int {
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        guard cores > 1, items.count >= minimumParallelItems, !WorkerPool.shared.isWorkerThread else {
            var s = state()
            return items.map { transform(&s, $0) }
        }
        // Many small runs, taken by whichever thread is free: a run slowed by other work on its
        // core (the log's writer thread, another process) then holds the map up only briefly,
        // and the caller, which waits for the runs helpers took, never waits long.
        let runs = min(64, items.count / (minimumParallelItems / 4))
        return [T](unsafeUninitializedCapacity: items.count) { buffer, initialized in
            let out = UnsafeSendable(buffer)
            let input = UnsafeSendable(items)
            withoutActuallyEscaping(transform) { transform in
                withoutActuallyEscaping(state) { state in
                    let f = UnsafeSendable(transform)
                    let makeState = UnsafeSendable(state)
                    let work: (Int) -> Void = { run in
                        let items = input.value
                        var s = makeState.value()
                        let lower = items.count * run / runs, upper = items.count * (run + 1) / runs
                        for i in lower..<upper {
                            (out.value.baseAddress! + i).initialize(to: f.value(&s, items[items.startIndex + i]))
                        }
                    }
                    WorkerPool.shared.run(iterations: runs, work)
                }
            }
            initialized = items.count
        }
    }
}

/// Hands a value to the pool's runs, which write disjoint parts of it.
// @unchecked Sendable: the runs write disjoint elements, and `map` waits for every run.
private struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
