import Foundation
import LMDB

/// Reads a range of the log ahead of a rebuild on its own thread, so that a rebuild uses two
/// cores: events are copied out in short read transactions, their headers read, and each
/// consuming projection's ``Projection/prepare(_:)`` run (payload parsing). The writer thread
/// then only applies them to tables.
///
/// At most ``depth`` batches wait at a time, so memory stays bounded whatever the log's length.
// @unchecked Sendable: its mutable state is guarded by `condition`; the reading thread and the
// consumer share nothing else.
final class RebuildPrefetcher: @unchecked Sendable {
    /// Events copied out of the log: each one's stored value (``StoredEvent``), concatenated.
    // @unchecked Sendable: a batch is handed from the reading thread to the consumer once and
    // not touched by the reader after; its memos hold values `prepare` made for that consumer.
    struct Batch: @unchecked Sendable {
        var bytes: [UInt8] = []
        var entries: [Entry] = []
    }

    struct Entry {
        var position: UInt64
        /// Chain hash and JSON within ``Batch/bytes``.
        var range: Range<Int>
        /// `nil` when the bytes do not read as an envelope (the writer decodes to say why).
        var header: EnvelopeHeader?
        var memo: ProjectionEvent.Memo
    }

    static let batchSize = 2048
    static let depth = 3

    private let env: Environment
    private let events: RawDatabase
    private let projections: [any Projection]
    private let range: ClosedRange<UInt64>
    private let condition = NSCondition()
    private var ready: [Result<Batch, any Error>] = []
    private var done = false
    private var cancelled = false
    /// Signalled when the reading thread has returned.
    private let exited = DispatchSemaphore(value: 0)

    init(env: Environment, events: RawDatabase, projections: [any Projection], from start: UInt64, through end: UInt64) {
        self.env = env
        self.events = events
        self.projections = projections
        self.range = start...end
        let thread = Thread { [self] in run() }
        thread.name = "atlas-readahead"
        thread.start()
    }

    /// The next batch, waiting for it; `nil` after the last.
    func next() throws -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty && !done { condition.wait() }
        guard !ready.isEmpty else { return nil }
        let batch = ready.removeFirst()
        condition.signal()
        return try batch.get()
    }

    /// Stops reading ahead (the rebuild ended or failed) and waits for the reading thread to
    /// return, so nothing reads the environment after the rebuild is over.
    func cancel() {
        condition.lock()
        cancelled = true
        ready.removeAll()
        condition.broadcast()
        condition.unlock()
        exited.wait()
    }

    /// CPU seconds the read-ahead threads of this process have used (diagnostics, for the
    /// benchmarks: it shows which side of a rebuild bounds it).
    static var cpuSeconds: Double {
        cpuLock.lock()
        defer { cpuLock.unlock() }
        return cpuTotal
    }
    private static let cpuLock = NSLock()
    nonisolated(unsafe) private static var cpuTotal = 0.0

    private func run() {
        defer {
            var u = rusage()
            getrusage(1 /* RUSAGE_THREAD: this thread only */, &u)
            let used = Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
            Self.cpuLock.lock()
            Self.cpuTotal += used
            Self.cpuLock.unlock()
            exited.signal()
        }
        ThreadName.setCurrent("atlas-readahead")
        var position = range.lowerBound
        let strings = EnvelopeHeader.StringInterner()
        while position <= range.upperBound {
            let result = Result { try read(from: position, strings: strings) }
            condition.lock()
            while ready.count >= Self.depth && !cancelled { condition.wait() }
            if cancelled {
                condition.unlock()
                return
            }
            ready.append(result)
            var stop = false
            switch result {
            case .success(let batch):
                if let last = batch.entries.last?.position { position = last + 1 } else { stop = true }
            case .failure:
                stop = true
            }
            condition.broadcast()
            condition.unlock()
            if stop { break }
        }
        condition.lock()
        done = true
        condition.broadcast()
        condition.unlock()
    }

    /// Copies up to ``batchSize`` events from `start` in one short read transaction, then
    /// prepares them outside it.
    private func read(from start: UInt64, strings: EnvelopeHeader.StringInterner) throws -> Batch {
        var batch = Batch()
        batch.bytes.reserveCapacity(Self.batchSize * 1024)
        batch.entries.reserveCapacity(Self.batchSize)
        try env.read { txn in
            try txn.withCursor(events) { c in
                var e = try c.seek(atLeast: UInt64BE.bytes(start))
                while let entry = e, batch.entries.count < Self.batchSize {
                    let position = try UInt64BE.decode(entry.key)
                    if position > range.upperBound { break }
                    let lower = batch.bytes.count
                    batch.bytes += entry.value
                    batch.entries.append(Entry(position: position, range: lower..<batch.bytes.count, header: nil,
                                               memo: ProjectionEvent.Memo()))
                    e = try c.next()
                }
            }
        }
        var filter = ProjectionFilter(projections)
        batch.bytes.withUnsafeBytes { all in
            for i in batch.entries.indices {
                guard let stored = StoredEvent(UnsafeRawBufferPointer(rebasing: all[batch.entries[i].range])),
                      let h = EnvelopeHeader.read(stored.json, strings: strings) else { continue }
                batch.entries[i].header = h
                let event = ProjectionEvent(position: batch.entries[i].position, chain: stored.chain,
                                            json: stored.json, header: h, memo: batch.entries[i].memo)
                let mask = filter.mask(for: h.type)
                for (j, p) in projections.enumerated() where filter.consumes(j, mask: mask, type: h.type) {
                    p.prepare(event)
                }
            }
        }
        return batch
    }
}
