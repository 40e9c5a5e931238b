import EventLog
import Foundation
import NIOCore
import PostgresNIO

extension PostgresEventStore {
    /// Brings every projection up to date when the store opens: builds new ones and those of
    /// another version, and catches up ones that lag.
    func prepareProjections() throws {
        guard !projections.isEmpty, !options.readOnly else { return }
        let (records, head) = try pool.withSession { s in
            try s.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") {
                (try projectionRecords(s), try Self.decodeHead(try s.query("SELECT position, chain FROM atlas.head")[0]))
            }
        }
        for p in projections {
            if let r = records[p.name], r.checkpoint > head.position {
                throw EventLogError(.truncatedLog, "log shorter than its projections: truncated? Projection \(p.name) has applied events through position \(r.checkpoint), but the log of \(url) ends at \(head.position); the store is not opened for writing, so no position is reused (run `atlas-replay verify`)")
            }
        }
        let toBuild = projections.filter { records[$0.name]?.version != $0.version }.map(\.name)
        if !toBuild.isEmpty { try rebuildSync(named: toBuild, progress: nil) }
        if projections.contains(where: { records[$0.name].map { $0.checkpoint < head.position } ?? false }) {
            try writerQueue.sync { _ = try commit([]) }
        }
    }

    package func rebuildProjections(named names: [String]?, progress: (@Sendable (UInt64, UInt64) -> Void)?) async throws {
        try await onBlockingThread { [self] in try rebuildSync(named: names, progress: progress) }
    }

    /// Rebuilds the named projections (all when `nil`) into fresh tables of a new generation
    /// and swaps them in, all in one transaction that holds the head: appends wait for it.
    package func rebuildSync(named names: [String]?, progress: (@Sendable (UInt64, UInt64) -> Void)?, chunk: Int = 20_000) throws {
        guard !options.readOnly else { throw EventLogError(.readOnly, "\(url) is open read-only") }
        if let names, let unknown = names.first(where: { n in !projections.contains { $0.name == n } }) {
            throw EventLogError(.projectionFailed, "no projection named \(unknown); known: \(projections.map(\.name).joined(separator: ", "))")
        }
        let selected = names.map { n in projections.filter { n.contains($0.name) } } ?? projections
        guard !selected.isEmpty else { return }
        try pool.withSession { s in
            try s.transaction {
                try s.execute(writeSettings)
                let head = try lockHead(s)
                let records = try projectionRecords(s)
                var ids: [StoreTable: Int32] = [:]
                var generations: [String: Int] = [:]
                for p in selected {
                    let g = (records[p.name]?.generation ?? 0) + 1
                    generations[p.name] = g
                    // Leftovers of a generation whose rebuild did not commit are none (it rolled back).
                    ids.merge(try createTables(s, p, generation: g)) { a, _ in a }
                }
                let fresh = Set(ids.values)
                var applier = ProjectionApplier(selected, passThrough: Self.abortsGroup)
                var batch: [RawEvent] = []
                // One overlay for the whole rebuild: while it holds every row (the new tables
                // began empty), a row it has not seen is absent, nothing is fetched, and each row
                // is written once, with a plain INSERT, at the end. Past `rebuildMemoryRows` it
                // writes them out, forgets them, and from then on fetches what each chunk
                // touches and sends each chunk's changes while the next is read and applied.
                let tables = OverlayTables(session: s, ids: ids)
                tables.emptyTables = fresh
                func apply() throws {
                    if tables.emptyTables.isEmpty {
                        for _ in 0..<3 {
                            let discovery = DiscoveryTables(ids: ids, known: tables.knownValue)
                            var probe = ProjectionApplier(selected)
                            for e in batch {
                                try? e.json.withUnsafeBytes { try probe.apply(stored: $0, position: e.position, chain: e.chainHash, to: discovery) }
                            }
                            if try tables.prefetch(discovery.sortedKeys()) == 0 { break }
                        }
                    }
                    for e in batch {
                        try e.json.withUnsafeBytes { try applier.apply(stored: $0, position: e.position, chain: e.chainHash, to: tables) }
                    }
                    if tables.emptyTables.isEmpty { try tables.send() }
                    if tables.entryCount > options.rebuildMemoryRows {
                        try tables.send()
                        try tables.settle()
                        tables.forget()
                    }
                    if let last = batch.last { progress?(last.position, head.position) }
                    batch.removeAll(keepingCapacity: true)
                }
                // Events are read on a second connection, so that reading is not queued behind
                // the writes (every event through the locked head is committed).
                try pool.withSession { reader in
                    try forEachStoredEvent(reader, after: 0, through: head.position, page: 5000) { e in
                        batch.append(e)
                        if batch.count >= chunk { try apply() }
                    }
                }
                try apply()
                try tables.flush()
                // Swap: the new generations become active; the old ones' rows go.
                for p in selected {
                    try s.query("""
                        INSERT INTO atlas.projections (name, version, generation, checkpoint)
                        VALUES (\(p.name), \(Int32(p.version)), \(Int32(generations[p.name]!)), \(Int64(head.position)))
                        ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, generation = EXCLUDED.generation,
                            checkpoint = EXCLUDED.checkpoint
                        """)
                    let old = try s.query("""
                        DELETE FROM atlas.kv_tables WHERE kind = 'projection' AND owner = \(p.name) AND generation <> \(Int32(generations[p.name]!))
                        RETURNING id
                        """).map { try $0.decode(Int32.self) }
                    if !old.isEmpty { try s.query("DELETE FROM atlas.kv WHERE tbl = ANY(\(old)::integer[])") }
                }
            }
        }
    }
}
