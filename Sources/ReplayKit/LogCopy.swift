package import EventLog

/// `atlas-replay copy`: copies a log from one store into another (of either backend) with its
/// positions, chain and envelope bytes unchanged, the destination building its projections as
/// the events arrive (``EventStore/appendVerbatim(_:)``).
///
/// Restartable: a destination that already holds a prefix of the source (its head position and
/// chain hash equal the source's event at that position) is continued after it. A destination
/// that is longer than the source or diverges from it is refused with nothing written.
package struct LogCopy: Sendable {
    /// How a copy ended.
    package struct Outcome: Sendable, Hashable {
        /// Events appended to the destination.
        package var copied: UInt64
        /// The destination's head before the copy (0 when it was empty).
        package var resumedAfter: UInt64
        /// The source's head when the copy started: what it copied through.
        package var sourceHead: LogHead
        /// The destination's head after the copy.
        package var destinationHead: LogHead
    }

    /// Events read and appended per batch.
    package var chunk: Int
    /// Receives (events copied, events to copy) after each batch.
    package var progress: (@Sendable (UInt64, UInt64) -> Void)?

    package init(chunk: Int = 4096, progress: (@Sendable (UInt64, UInt64) -> Void)? = nil) {
        self.chunk = max(1, chunk)
        self.progress = progress
    }

    /// Copies `source`'s events through its current head into `destination`.
    ///
    /// - Throws: ``ReplayFailure`` naming the first difference when `destination` is not a
    ///   prefix of `source` (longer, another chain, another store format); nothing is written then.
    package func run(from source: any EventStore, to destination: any EventStore) async throws -> Outcome {
        let sourceHead = try source.head()
        let start = try destination.head()
        try Self.checkPrefix(source: source, sourceHead: sourceHead, destination: destination, destinationHead: start)
        let total = sourceHead.position - start.position
        var next = start.position + 1
        progress?(0, total)
        while next <= sourceHead.position {
            let want = Int(min(UInt64(chunk), sourceHead.position - next + 1))
            let batch = try source.rawEvents(from: next, limit: want)
            guard let last = batch.last, batch.first?.position == next else {
                throw ReplayFailure("the source has no event at position \(next), below its head \(sourceHead.position)")
            }
            try await destination.appendVerbatim(batch)
            next = last.position + 1
            progress?(last.position - start.position, total)
        }
        return Outcome(copied: total, resumedAfter: start.position, sourceHead: sourceHead, destinationHead: try destination.head())
    }

    /// Checks that the destination's log is a prefix of the source's.
    static func checkPrefix(source: any EventStore, sourceHead: LogHead, destination: any EventStore, destinationHead: LogHead) throws {
        let from = source.location, to = destination.location
        guard source.formatVersion == destination.formatVersion else {
            throw ReplayFailure("\(to) has store format \(destination.formatVersion) and \(from) format \(source.formatVersion): "
                + "their chains cannot match; copy into a new store; nothing was written")
        }
        let d = destinationHead.position
        guard d > 0 else { return }
        guard d <= sourceHead.position else {
            throw ReplayFailure("\(to) is longer than \(from): its head is at position \(d), the source's at \(sourceHead.position); nothing was written")
        }
        if try chain(of: source, at: d) == destinationHead.chainHash { return }
        // The chains differ at the head: the first difference is the first position whose chain
        // hashes differ (each hash covers every event before it).
        var low: UInt64 = 1, high = d
        while low < high {
            let mid = low + (high - low) / 2
            if try chain(of: source, at: mid) == chain(of: destination, at: mid) { low = mid + 1 } else { high = mid }
        }
        throw ReplayFailure("\(to) diverges from \(from) at position \(low): chain \(try chain(of: destination, at: low)) there, "
            + "\(try chain(of: source, at: low)) in the source; nothing was written")
    }

    /// The chain hash of the event at `position`.
    static func chain(of store: any EventStore, at position: UInt64) throws -> ChainHash {
        guard let e = try store.rawEvents(from: position, limit: 1).first, e.position == position else {
            throw ReplayFailure("\(store.location) has no event at position \(position)")
        }
        return e.chainHash
    }
}
