package import EventLog
import Foundation
import Inventory

/// Replays the events of a store, in order, into a ``ScratchStore``: each chunk is read in one
/// short read transaction and appended, as stored bytes, in one large batch, so the scratch
/// store's projections are computed from scratch by the same code as the live ones. Positions
/// and chain hashes must come out identical; that is checked for every batch.
package final class Replayer {
    package let source: any EventStore
    package let scratch: ScratchStore
    /// The last position replayed.
    package private(set) var replayed: UInt64 = 0
    /// The chain hash after ``replayed``.
    package private(set) var chain: ChainHash = .genesis
    /// Events per read chunk and per appended batch.
    package var chunk: Int

    package init(source: any EventStore, scratch: ScratchStore, chunk: Int = 8192) {
        self.source = source
        self.scratch = scratch
        self.chunk = chunk
    }

    /// Replays every event up to and including `end`.
    package func replay(through end: UInt64, progress: ((UInt64, UInt64) -> Void)? = nil) async throws {
        while replayed < end {
            let want = Int(min(UInt64(chunk), end - replayed))
            let raws = try source.rawEvents(from: replayed + 1, limit: want)
            guard !raws.isEmpty else {
                throw ReplayFailure("the log ends at position \(replayed), before position \(end)")
            }
            var events: [EncodedEvent] = []
            events.reserveCapacity(raws.count)
            for (i, raw) in raws.enumerated() {
                guard raw.position == replayed + 1 + UInt64(i) else {
                    throw ReplayFailure("gap in the log: position \(replayed + 1 + UInt64(i)) is missing; run `atlas-replay verify`")
                }
                do { events.append(try EncodedEvent(stored: raw.json)) } catch {
                    throw ReplayFailure("event at position \(raw.position): \(error.message); run `atlas-replay verify`")
                }
            }
            try await appendChecked(events, raws: raws)
            progress?(replayed, end)
        }
    }

    /// Appends `events` (of `raws`) to the scratch store and checks that positions and the
    /// chain hash come out as stored.
    func appendChecked(_ events: [EncodedEvent], raws: [RawEvent]) async throws {
        let result = try await scratch.store.append(encoded: events, precondition: nil)
        for (p, raw) in zip(result.positions, raws) where p != raw.position {
            throw ReplayFailure("event \(events[Int(raw.position - raws[0].position)].id) at position \(raw.position) replays to position \(p): its id is already in the log")
        }
        guard result.written == raws.count, result.head.position == raws.last!.position else {
            throw ReplayFailure("replaying positions \(raws[0].position)…\(raws.last!.position) wrote \(result.written) events, head \(result.head.position)")
        }
        guard result.head.chainHash == raws.last!.chainHash else {
            throw ReplayFailure("replaying through position \(raws.last!.position) gives chain hash \(result.head.chainHash.hex), stored \(raws.last!.chainHash.hex); run `atlas-replay verify`")
        }
        replayed = raws.last!.position
        chain = raws.last!.chainHash
    }

    /// The scratch store's projection digests (at ``replayed``).
    package func digests(_ projections: [any Projection] = InventoryProjections.all) throws -> [ProjectionDigest] {
        try ProjectionDigest.all(of: scratch.store, projections: projections)
    }
}
