import Foundation
import LMDB

extension LMDBEventStore {
    // MARK: Handles

    func cachedProjectionHandles() -> ([String: Int], [StoreTable: RawDatabase]) {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        return (activeGenerations, projectionHandles)
    }

    /// Re-reads every projection's active generation and opens its tables (those of this
    /// projection version only).
    func refreshProjectionHandles() throws {
        var generations: [String: Int] = [:]
        var handles: [StoreTable: RawDatabase] = [:]
        let records = try env.read { txn in try projections.map { try record(txn, $0.name) } }
        for (p, r) in zip(projections, records) {
            // Tables built by another version may not be the ones this version names (a new
            // version can add one): they are not used, and the projection reads as stale
            // (``staleProjections()``) until it is rebuilt.
            guard let r, r.version == p.version else { continue }
            generations[p.name] = r.generation
            for t in p.tableNames {
                let name = StoreLayout.projectionTable(p.name, generation: r.generation, t)
                guard let db: RawDatabase = try env.openDatabase(name, create: false) else {
                    throw EventLogError(.corruptEvent, "projection \(p.name) lacks its table \(name)")
                }
                handles[.projection(p.name, t)] = db
            }
        }
        cacheLock.lock()
        activeGenerations = generations
        projectionHandles = handles
        cacheLock.unlock()
    }

    func record(_ txn: ReadTransaction, _ name: String) throws -> ProjectionRecord? {
        try Array(name.utf8).withUnsafeBytes { k in
            try txn.withRawValue(projectionRecords, forRawKey: k) { try ProjectionRecord(decoding: $0, name: name) }
        }
    }

    func putRecord(_ txn: WriteTransaction, _ name: String, _ r: ProjectionRecord) throws {
        try txn.put(projectionRecords, Array(name.utf8), r.encoded())
    }

    /// Throws ``GenerationChanged`` when another process swapped in a rebuilt projection since
    /// the handles were cached.
    func verifyGenerations(_ txn: ReadTransaction, _ generations: [String: Int]) throws {
        for p in projections {
            let r = try record(txn, p.name)
            if r?.generation != generations[p.name] { throw GenerationChanged() }
            if let r, r.version != p.version {
                throw EventLogError(.projectionFailed,
                    "projection \(p.name) is at version \(r.version) in the store but this build has version \(p.version); reopen the store to rebuild it")
            }
        }
    }

    /// Applies events a projection has not seen yet (written by a process without it).
    func catchUpProjections(_ txn: WriteTransaction, handles: [StoreTable: RawDatabase], head: LogHead) throws {
        for p in projections {
            guard var r = try record(txn, p.name), r.checkpoint < head.position else { continue }
            try applyRange(p, txn: txn, handles: handles, from: r.checkpoint + 1, through: head.position)
            r.checkpoint = head.position
            try putRecord(txn, p.name, r)
        }
    }

    func writeCheckpoints(_ txn: WriteTransaction, head: LogHead) throws {
        for p in projections {
            guard var r = try record(txn, p.name), r.checkpoint != head.position else { continue }
            r.checkpoint = head.position
            try putRecord(txn, p.name, r)
        }
    }

    /// Decodes and applies events `start...end` to `p`'s tables given by `handles`.
    @discardableResult
    func applyRange(
        _ p: any Projection, txn: WriteTransaction, handles: [StoreTable: RawDatabase],
        from start: UInt64, through end: UInt64
    ) throws -> UInt64 {
        try applyRange([p], txn: txn, handles: handles, from: start, through: end)
    }

    /// Applies events `start...end` to every projection in `ps`, straight from the stored
    /// bytes: only the envelope's top-level members are read here, and an event no projection
    /// consumes is not looked at further.
    ///
    /// With a `buffer` (a rebuild's), table writes go to it (rebound to `txn`), which writes
    /// everything out whenever it holds more than `memoryLimit` bytes; what it holds at the end
    /// is the caller's to write. The events are then read and prepared ahead on another thread
    /// (``RebuildPrefetcher``).
    @discardableResult
    func applyRange(
        _ ps: [any Projection], txn: WriteTransaction, handles: [StoreTable: RawDatabase],
        from start: UInt64, through end: UInt64, buffer: BufferedTables? = nil, memoryLimit: Int = .max
    ) throws -> UInt64 {
        guard start <= end, !ps.isEmpty else { return start - 1 }
        let direct = LMDBTables(write: txn, handles: handles, events: events)
        buffer?.rebind(direct)
        let buffered = buffer != nil
        let tables: any KeyValueWriter = buffer ?? direct
        var filter = ProjectionFilter(ps)
        var last = start - 1

        func apply(position: UInt64, stored: UnsafeRawBufferPointer, header: EnvelopeHeader?, memo: ProjectionEvent.Memo,
                   prepared: Bool) throws {
            guard position == last + 1 else {
                throw EventLogError(.corruptEvent, "gap in the log: position \(last + 1) is missing")
            }
            let parts = try StoredEvent(stored, at: position)
            let (chain, json) = (parts.chain, parts.json)
            let event: ProjectionEvent
            if let h = header {
                event = ProjectionEvent(position: position, chain: chain, json: json, header: h, memo: memo, keepingMemo: prepared)
            } else {
                // Not readable as an envelope: decoding names the problem.
                let encoded = try EncodedEvent.decoding(stored: Array(json), position: position)
                event = ProjectionEvent(position: position, chain: chain, json: json, encoded: encoded, memo: memo)
            }
            try Self.apply(ps, filter: &filter, to: event, tables: tables)
            last = position
            if let buffer, buffer.bytes > memoryLimit { try buffer.spill() }
        }

        if buffered {
            let ahead = RebuildPrefetcher(env: env, events: events, projections: ps, from: start, through: end)
            defer { ahead.cancel() }
            while let batch = try ahead.next() {
                try batch.bytes.withUnsafeBytes { all in
                    for entry in batch.entries {
                        try apply(position: entry.position, stored: UnsafeRawBufferPointer(rebasing: all[entry.range]),
                                  header: entry.header, memo: entry.memo, prepared: true)
                    }
                }
            }
        } else {
            let memo = ProjectionEvent.Memo()
            let strings = EnvelopeHeader.StringInterner()
            try txn.withCursor(events) { c in
                var e = try c.seek(atLeast: UInt64BE.bytes(start))
                while let entry = e {
                    let position = try UInt64BE.decode(entry.key)
                    if position > end { break }
                    let header = StoredEvent(entry.value).flatMap { EnvelopeHeader.read($0.json, strings: strings) }
                    try apply(position: position, stored: entry.value, header: header, memo: memo, prepared: false)
                    e = try c.next()
                }
            }
        }
        return last
    }

    // MARK: Open

    /// Brings every projection up to date when the store opens: finishes nothing half-done
    /// (an abandoned rebuild is discarded and redone), rebuilds projections whose version
    /// changed or that are new, and catches up ones that lag.
    func prepareProjections() throws {
        guard !projections.isEmpty else { return }
        if options.readOnly {
            try refreshProjectionHandles()
            return
        }
        // A store never reuses positions: refuse before writing anything when a projection has
        // applied events beyond the log's head.
        for p in projections {
            let (r, head) = try env.read { txn in (try record(txn, p.name), try readHead(txn)) }
            if let r, r.checkpoint > head.position {
                throw EventLogError(.truncatedLog, "log shorter than its projections: truncated? Projection \(p.name) has applied events through position \(r.checkpoint), but the log of \(path) ends at \(head.position); the store is not opened for writing, so no position is reused (run `atlas-replay verify`)")
            }
        }
        var toRebuild: [String] = []
        for p in projections {
            let (r, head) = try env.read { txn in (try record(txn, p.name), try readHead(txn)) }
            if let b = r?.building, !b.ownerAlive || b.ownedByThisProcess {
                try discardBuilding(p)
            }
            if r == nil && head.position == 0 {
                // A new projection on an empty log: nothing to replay.
                try createGeneration(p, generation: 1)
                try env.writeSync { txn in
                    if try record(txn, p.name) == nil {
                        try putRecord(txn, p.name, ProjectionRecord(version: p.version, generation: 1, checkpoint: 0))
                    }
                }
            } else if r == nil || r!.version != p.version {
                toRebuild.append(p.name)
            }
            try dropOrphanGenerations(p)
        }
        try refreshProjectionHandles()
        if !toRebuild.isEmpty {
            try rebuildSync(named: toRebuild, progress: nil)
        }
        // Catch up lagging projections now rather than in the first append.
        let (_, handles) = cachedProjectionHandles()
        let all = handles.merging(stateHandles) { a, _ in a }
        do {
            try env.writeSync { txn in
                try catchUpProjections(txn, handles: all, head: try readHead(txn))
            }
        } catch {
            throw Self.mapError(error)
        }
    }

    private func createGeneration(_ p: any Projection, generation: Int) throws {
        for t in p.tableNames {
            _ = try env.openDatabase(StoreLayout.projectionTable(p.name, generation: generation, t),
                                     key: RawBytes.self, value: RawBytes.self, create: true)
        }
    }

    private func discardBuilding(_ p: any Projection) throws {
        guard let b = try env.read({ txn in try record(txn, p.name)?.building }) else { return }
        for t in p.tableNames {
            let name = StoreLayout.projectionTable(p.name, generation: b.generation, t)
            if let db: RawDatabase = try env.openDatabase(name, create: false) { try env.dropDatabase(db) }
        }
        try env.writeSync { txn in
            guard var r = try record(txn, p.name) else { return }
            r.building = nil
            try putRecord(txn, p.name, r)
        }
    }

    /// Drops tables of generations that are neither active nor being built.
    private func dropOrphanGenerations(_ p: any Projection) throws {
        let r = try env.read { txn in try record(txn, p.name) }
        let keep = Set([r?.generation, r?.building?.generation].compactMap { $0 })
        let prefix = StoreLayout.projectionPrefix(p.name)
        for name in try env.databaseNames() where name.hasPrefix(prefix) {
            let parts = name.dropFirst(prefix.count).split(separator: "/", maxSplits: 1)
            guard parts.count == 2, let g = Int(parts[0]), !keep.contains(g) else { continue }
            if let db: RawDatabase = try env.openDatabase(name, create: false) { try env.dropDatabase(db) }
        }
    }

    // MARK: Rebuild

    /// Like ``rebuildSync(named:progress:chunk:memoryLimit:)``, on a thread of its own: the rebuild blocks
    /// its thread until the last chunk commits, which must not be one of the cooperative pool's.
    package func rebuildProjections(named names: [String]?, progress: (@Sendable (UInt64, UInt64) -> Void)?) async throws {
        _ = try await DedicatedThread.run(name: "atlas-rebuild") { [self] in
            try rebuildSync(named: names, progress: progress)
        }
    }

    /// The memory a rebuild holds its new tables in before it writes them out (see
    /// ``rebuildSync(named:progress:chunk:memoryLimit:)``): 512 MiB.
    package static let defaultRebuildMemoryLimit = 512 << 20

    /// Rebuilds the named projections (all when `nil`) into a new generation of tables, in
    /// chunks of `chunk` events per write transaction, and swaps each in atomically with its
    /// last chunk. Appends from this and other processes go on meanwhile.
    ///
    /// The new tables are built in memory across chunks, up to about `memoryLimit` bytes, and
    /// written in key order with the last chunk (appended, as they are empty); a rebuild that
    /// outgrows the limit writes out what it holds and goes on, looking up in the tables the
    /// rows it no longer holds.
    @discardableResult
    package func rebuildSync(
        named names: [String]?, progress: (@Sendable (UInt64, UInt64) -> Void)?, chunk: Int = 100_000,
        memoryLimit: Int = LMDBEventStore.defaultRebuildMemoryLimit
    ) throws -> RebuildMemoryUse {
        guard !options.readOnly else { throw EventLogError(.readOnly, "\(path) is open read-only") }
        let selected = names.map { n in projections.filter { n.contains($0.name) } } ?? projections
        if let names, let unknown = names.first(where: { n in !projections.contains { $0.name == n } }) {
            throw EventLogError(.projectionFailed, "no projection named \(unknown); known: \(projections.map(\.name).joined(separator: ", "))")
        }
        guard !selected.isEmpty else { return RebuildMemoryUse(peakBytes: 0, spills: 0) }
        return try mapErrorsSync { try rebuildTogether(selected, progress: progress, chunk: chunk, memoryLimit: memoryLimit) }
    }

    /// Rebuilds `ps` in one pass over the log: each event is decoded once for all of them.
    private func rebuildTogether(
        _ ps: [any Projection], progress: (@Sendable (UInt64, UInt64) -> Void)?, chunk: Int, memoryLimit: Int
    ) throws -> RebuildMemoryUse {
        // 1. Claim a new generation for each.
        var generations: [String: Int] = [:]
        for p in ps {
            generations[p.name] = try env.writeSync { txn in
                var r = try record(txn, p.name) ?? ProjectionRecord(version: p.version, generation: 0, checkpoint: 0)
                if let b = r.building, b.ownerAlive, !b.ownedByThisProcess {
                    throw EventLogError(.projectionFailed, "projection \(p.name) is being rebuilt by process \(b.owner)")
                }
                let g = max(r.generation, r.building?.generation ?? 0) + 1
                r.building = .init(generation: g, version: p.version, checkpoint: 0, owner: .current)
                try putRecord(txn, p.name, r)
                return g
            }
        }
        var building: [StoreTable: RawDatabase] = stateHandles
        for p in ps {
            try createGeneration(p, generation: generations[p.name]!)
            for t in p.tableNames {
                let name = StoreLayout.projectionTable(p.name, generation: generations[p.name]!, t)
                guard let db: RawDatabase = try env.openDatabase(name, create: false) else {
                    throw EventLogError(.storage, "cannot open \(name)")
                }
                building[.projection(p.name, t)] = db
            }
        }
        let handles = building
        let claimed = generations
        // The new tables are empty (a table left over with rows is treated as any other).
        let fresh = try env.read { txn in
            Set(try ps.flatMap { p in p.tableNames.map { StoreTable.projection(p.name, $0) } }
                .filter { try txn.count(handles[$0]!) == 0 })
        }
        let buffer = BufferedTables(building: fresh)
        // 2. Fill them chunk by chunk; the last chunk swaps them all in, atomically.
        var previous: [String: Int] = [:]
        var checkpoint: UInt64 = 0
        while true {
            let from = checkpoint
            let (done, reached, head, old) = try env.writeSync { txn -> (Bool, UInt64, UInt64, [String: Int]) in
                var records: [String: ProjectionRecord] = [:]
                for p in ps {
                    guard let r = try record(txn, p.name), let b = r.building, b.generation == claimed[p.name], b.checkpoint == from
                    else { throw EventLogError(.projectionFailed, "rebuild of \(p.name) was taken over by another process") }
                    records[p.name] = r
                }
                let head = try readHead(txn).position
                let end = min(head, from + UInt64(chunk))
                let reached = try applyRange(ps, txn: txn, handles: handles, from: from + 1, through: end,
                                             buffer: buffer, memoryLimit: memoryLimit)
                if reached >= head {
                    if from + 1 > end { buffer.rebind(LMDBTables(write: txn, handles: handles, events: events)) }
                    try buffer.flush()
                    var old: [String: Int] = [:]
                    for p in ps {
                        let r = records[p.name]!
                        old[p.name] = r.generation
                        try putRecord(txn, p.name, ProjectionRecord(version: r.building!.version, generation: claimed[p.name]!, checkpoint: head))
                    }
                    return (true, head, head, old)
                }
                try buffer.writeShared()
                for p in ps {
                    var r = records[p.name]!
                    r.building!.checkpoint = reached
                    try putRecord(txn, p.name, r)
                }
                return (false, reached, head, [:])
            }
            checkpoint = reached
            progress?(reached, head)
            if done {
                previous = old
                break
            }
        }
        // 3. Use the new tables and drop the old ones.
        try refreshProjectionHandles()
        for p in ps {
            guard let old = previous[p.name], old > 0, old != claimed[p.name] else { continue }
            for t in p.tableNames {
                let name = StoreLayout.projectionTable(p.name, generation: old, t)
                if let db: RawDatabase = try env.openDatabase(name, create: false) { try env.dropDatabase(db) }
            }
        }
        return RebuildMemoryUse(peakBytes: buffer.peakBytes, spills: buffer.spills)
    }

    /// CPU seconds used so far, in this process, by rebuilds' read-ahead threads (diagnostics
    /// for benchmarks; see ``rebuildSync(named:progress:chunk:memoryLimit:)``).
    package static var rebuildReadAheadCPUSeconds: Double { RebuildPrefetcher.cpuSeconds }



    package func projectionStatus() throws -> [ProjectionStatus] {
        try read { tables in
            let opened = cachedProjectionHandles().1
            return try projections.map { p in
                let r = try env.read { txn in try record(txn, p.name) }
                var entries: [String: Int] = [:]
                // A projection never built in this store (an events-only store, or one a
                // read-only open cannot build) has no tables: it holds no entries.
                for t in p.tableNames {
                    let table = StoreTable.projection(p.name, t)
                    entries[t] = opened[table] == nil ? 0 : try tables.count(table)
                }
                return ProjectionStatus(name: p.name, version: r?.version ?? p.version, checkpoint: r?.checkpoint ?? 0,
                                        generation: r?.generation ?? 0, entries: entries)
            }
        }
    }
}
