package import EventLog
import Foundation
import Inventory

/// Reconstructs the inventory as it was right after one event: events 1…N are replayed into a
/// scratch store with the inventory projections, and the ordinary ``InventoryQueries`` run on it.
package enum AsOf {
    /// The position `--time t` means: the highest position whose `recorded_at` is at or before
    /// `t`, through `head`. `recorded_at` need not rise with the position (several writers'
    /// clocks), so the whole log through `head` is scanned. `nil` when no event qualifies.
    package static func position(atOrBefore t: Timestamp, in store: any EventStore, through head: UInt64) throws -> UInt64? {
        var found: UInt64?
        try store.forEachRawEvent(from: 1, through: head, chunk: 8192) { raw in
            let recorded: Timestamp
            if let f = EnvelopeFields.read(raw.json), let ts = Timestamp(rfc3339: f.recordedAt) {
                recorded = ts
            } else {
                recorded = try raw.decode().envelope.recordedAt
            }
            if recorded <= t { found = raw.position }
            return true
        }
        return found
    }

    /// Checks that `position` is within the log: 1…head.
    package static func validate(position: UInt64, head: UInt64) throws {
        guard position >= 1 else { throw ReplayUsageError("position must be at least 1") }
        guard position <= head else { throw ReplayUsageError("position \(position) is beyond the head of the log (\(head))") }
    }

    /// Checks that `tenant` has at least one event in the log.
    package static func validate(tenant: String, in store: any EventStore) throws {
        guard try !store.tenantPositions(tenant, after: 0, limit: 1).isEmpty else {
            throw ReplayUsageError("tenant \"\(tenant)\" has no events in this store")
        }
    }

    /// Replays events 1…`position` into a new scratch store and returns the replayer; query it
    /// with `InventoryQueries(store: replayer.scratch.store)`.
    package static func replay(_ store: any EventStore, through position: UInt64, scratchParent: String? = nil,
                              progress: ((UInt64, UInt64) -> Void)? = nil) async throws -> Replayer {
        let replayer = Replayer(source: store, scratch: try ScratchStore(label: "as-of", parent: scratchParent, formatVersion: store.formatVersion))
        // Reading and decoding chunks between appends is long synchronous work: off the pool.
        try await withTaskExecutorPreference(SerialTaskExecutor(label: "atlas-as-of")) {
            try await replayer.replay(through: position, progress: progress)
        }
        return replayer
    }
}
