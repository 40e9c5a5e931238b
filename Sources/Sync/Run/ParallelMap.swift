import Foundation

/// Maps a collection on every core: the sync's per-item work (canonical hash, observation,
/// event bytes) is pure, so a page's items are split into one contiguous run per core.
enum ParallelMap {
    /// Items below which one thread is used: splitting costs more than it saves.
    static let minimumParallelItems = 64

    static func map<C: RandomAccessCollection, T>(_ items: C, _ transform: (C.Element) -> T) -> [T] where C.Index == Int {
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        guard cores > 1, items.count >= minimumParallelItems else { return items.map(transform) }
        let runs = min(cores, items.count)
        return [T](unsafeUninitializedCapacity: items.count) { buffer, initialized in
            let out = UnsafeSendable(buffer)
            let input = UnsafeSendable(items)
            withoutActuallyEscaping(transform) { transform in
                let f = UnsafeSendable(transform)
                DispatchQueue.concurrentPerform(iterations: runs) { run in
                    let items = input.value
                    let lower = items.count * run / runs, upper = items.count * (run + 1) / runs
                    for i in lower..<upper {
                        (out.value.baseAddress! + i).initialize(to: f.value(items[items.startIndex + i]))
                    }
                }
            }
            initialized = items.count
        }
    }
}

/// Hands a value to `concurrentPerform`'s iterations, which write disjoint parts of it.
private struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
