import Foundation

/// The appends waiting for a store's single writer: callers add theirs, the writer takes all
/// that are waiting as one group (one transaction). The first add after a take asks its caller
/// to schedule the writer; later adds join the group it will take.
///
/// ```swift
/// if queue.add(request) { writer.async { drain() } }
/// // on the writer: let group = queue.takeAll()
/// ```
// @unchecked Sendable: the items and the flag are guarded by `lock`.
package final class GroupCommitQueue<Element>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Element] = []
    private var scheduled = false

    package init() {}

    /// Adds `item`; returns whether the caller must schedule the writer (no take is scheduled).
    package func add(_ item: Element) -> Bool {
        lock.withLock {
            items.append(item)
            defer { scheduled = true }
            return !scheduled
        }
    }

    /// Takes every waiting item; the next ``add(_:)`` schedules the writer again.
    package func takeAll() -> [Element] {
        lock.withLock {
            defer {
                items = []
                scheduled = false
            }
            return items
        }
    }
}
