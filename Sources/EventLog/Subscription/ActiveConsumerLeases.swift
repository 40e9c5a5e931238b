import Foundation

/// The consumer leases held by subscriptions open in this process (by holder id), so a lease
/// whose subscription was dropped in this process is known dead at once.
package enum ActiveConsumerLeases {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var holders: Set<String> = []

    package static func insert(_ holder: String) { lock.withLock { _ = holders.insert(holder) } }

    package static func remove(_ holder: String) { lock.withLock { _ = holders.remove(holder) } }

    package static func contains(_ holder: String) -> Bool { lock.withLock { holders.contains(holder) } }
}
