package import CanonicalJSON
package import EventLog
import Foundation
import Inventory

/// The outcome of `atlas-replay verify`.
package struct VerifyReport: Sendable {
    package enum Status: String, Sendable { case ok, failed, inconclusive }

    /// One thing found wrong.
    package struct Problem: Sendable, Hashable {
        package var kind: Kind
        package var position: UInt64?
        package var projection: String?
        /// A printable form of the first differing key of a projection.
        package var key: String?
        package var message: String

        package var json: JSONValue {
            .object([
                "kind": .string(kind.rawValue), "position": position.map { .number(Double($0)) } ?? .null,
                "projection": projection.map { .string($0) } ?? .null, "key": key.map { .string($0) } ?? .null,
                "message": .string(message),
            ])
        }
    }

    /// One projection compared with its rebuild.
    package struct ProjectionCheck: Sendable, Hashable {
        package var name: String
        package var live: String
        package var rebuilt: String
        package var entries: [String: Int]
        package var at: UInt64
        package var equal: Bool { live == rebuilt }
    }

    package var status: Status
    /// The position (and its chain hash) through which the log was checked.
    package var head: LogHead
    package var eventsChecked: UInt64
    /// The first problems found (at most ``Verifier/maxProblems``), in log order.
    package var problems: [Problem]
    package var problemCount: Int
    package var projections: [ProjectionCheck]
    package var notes: [String]

    package var firstProblem: Problem? { problems.first }

    package var json: JSONValue {
        .object([
            "status": .string(status.rawValue), "head": .number(Double(head.position)), "chain": .string(head.chainHash.hex),
            "events_checked": .number(Double(eventsChecked)), "problem_count": .number(Double(problemCount)),
            "problems": .array(problems.map(\.json)),
            "projections": .array(projections.map { p in
                .object(["name": .string(p.name), "live_digest": .string(p.live), "rebuilt_digest": .string(p.rebuilt),
                         "equal": .bool(p.equal), "at_position": .number(Double(p.at)),
                         "entries": .object(p.entries.mapValues { .number(Double($0)) })])
            }),
            "notes": .array(notes.map { .string($0) }),
        ])
    }
}

/// Checks a store from its file: the hash chain recomputed from position 1, positions gapless,
/// every envelope decodable and in canonical form, the tenant index complete, and every
/// projection equal (by digest, at the same log head) to one rebuilt from scratch in a
/// temporary store. Reads in short, chunked read transactions; safe while a writer appends.
package final class Verifier {
    package static let maxProblems = 100

    let source: any EventStore
    let projections: [any Projection]
    let scratchParent: String?
    /// Events per read chunk.
    package var chunk = 8192
    /// How often to retry the projection comparison at a newer head when a writer moved on.
    package var attempts = 5
    /// Compare projections with a rebuild (off: log checks only).
    package var compareProjections = true
    package var progress: ((UInt64, UInt64) -> Void)?
    /// Called as each later step starts (the index comparison, each projection's digest).
    package var step: ((String) -> Void)?
    /// The exact scratch store path to use (default: a new one under `scratchParent`).
    package var scratchDirectory: String?

    // State of the scan.
    private var next: UInt64 = 1
    private var previousStored: ChainHash = .genesis
    private var previousRecomputed: ChainHash = .genesis
    private var previousChainBad = false
    private var afterGap = false
    private var problems: [VerifyReport.Problem] = []
    private var problemCount = 0
    private var checked: UInt64 = 0
    /// The tenant and id of every event scanned, for the entry-by-entry index comparison.
    private var scanned = ScannedEvents()
    /// The greatest `events` key seen so far: the scan resumes after it.
    private var greatestKey: [UInt8]?
    /// Set when the key order is too damaged to walk on.
    private var scanStopped = false
    /// The canonical transcoder's output, reused from event to event.
    private var scratch: [UInt8] = []
    private var replayer: Replayer?
    private var replayBroken = false
    private var lastStored: LogHead = .empty

    package init(store: any EventStore, projections: [any Projection] = InventoryProjections.all, scratchParent: String? = nil) {
        self.source = store
        self.projections = projections
        self.scratchParent = scratchParent
    }

    private func problem(_ kind: VerifyReport.Problem.Kind, position: UInt64? = nil, projection: String? = nil, key: String? = nil, _ message: String) {
        problemCount += 1
        if problems.count < Self.maxProblems {
            problems.append(.init(kind: kind, position: position, projection: projection, key: key, message: message))
        }
    }

    /// Verifies the store. The checks run on an executor of their own (``SerialTaskExecutor``),
    /// not on the cooperative pool: they are long synchronous stretches between appends to the
    /// scratch store.
    package func run() async throws -> VerifyReport {
        try await withTaskExecutorPreference(SerialTaskExecutor(label: "atlas-verify")) { try await check() }
    }

    private func check() async throws -> VerifyReport {
        var notes: [String] = []
        var pinned = try source.head().position
        if compareProjections {
            replayer = Replayer(source: source, scratch: try ScratchStore(label: "verify", parent: scratchParent, directory: scratchDirectory, projections: projections, formatVersion: source.formatVersion))
        }
        try await scan(through: pinned)
        try checkIndexes(through: pinned)

        // A projection that has seen positions beyond the log's head: events were removed from
        // the end (the status is read before the head, and heads only grow).
        let statuses = try source.projectionStatus()
        let headNow = try source.head().position
        for s in statuses where s.checkpoint > max(pinned, headNow) {
            problem(.truncation, position: headNow,
                    "log shorter than its projections: projection \(s.name) has applied events through position \(s.checkpoint), but the log ends at \(headNow) (truncated?)")
        }

        var checks: [VerifyReport.ProjectionCheck] = []
        var inconclusive = false
        if compareProjections && problemCount == 0 && !replayBroken, let replayer {
            var done = false
            // A projection is behind the log with no writer to move it on: comparing again cannot help.
            var behind = false
            for attempt in 1...max(1, attempts) {
                let statuses = try source.projectionStatus()
                let lagging = statuses.filter { $0.checkpoint != pinned }
                if lagging.isEmpty, let result = try compareLive(at: pinned, replayer: replayer) {
                    checks = result
                    done = true
                    break
                }
                let newHead = try source.head().position
                if newHead == pinned, let l = lagging.first {
                    notes.append("projection \(l.name) is behind the log (checkpoint \(l.checkpoint), head \(pinned)); it catches up with the next append or open; not compared")
                    behind = true
                    break
                }
                notes.append("attempt \(attempt): the log moved from \(pinned) to \(newHead) while comparing; checking the new events and comparing again")
                try await scan(through: newHead)
                try checkIndexes(through: newHead)
                pinned = newHead
                if problemCount > 0 || replayBroken { break }
            }
            if !done && problemCount == 0 && !replayBroken {
                inconclusive = true
                if !behind {
                    notes.append("the store was too busy: the log moved on during each of \(attempts) attempts to compare projections at one head")
                }
            }
        } else if compareProjections && problemCount > 0 {
            notes.append("projections not compared: the log itself is damaged")
        }
        for c in checks where !c.equal && !problems.contains(where: { $0.projection == c.name }) {
            problem(.projection, projection: c.name, "projection \(c.name) differs from its rebuild at position \(c.at)")
        }
        let status: VerifyReport.Status = problemCount > 0 ? .failed : (inconclusive ? .inconclusive : .ok)
        return VerifyReport(status: status, head: lastStored, eventsChecked: checked, problems: problems,
                            problemCount: problemCount, projections: checks, notes: notes)
    }

    /// Checks events `next...end` in the order a cursor walks the `events` table (so keys out of
    /// B-tree order, bad lengths and duplicates are named, not trapped on) and replays intact
    /// ones into the scratch store.
    private func scan(through end: UInt64) async throws {
        while next <= end && !scanStopped {
            let entries = try source.rawEntries(.events, after: greatestKey, limit: chunk)
            guard !entries.isEmpty else {
                problem(.gap, position: next, "the log ends at position \(next - 1), but its head was \(end)")
                replayBroken = true
                return
            }
            var events: [EncodedEvent] = []
            var batch: [RawEvent] = []
            events.reserveCapacity(entries.count)
            batch.reserveCapacity(entries.count)
            var advanced = false
            var reachedEnd = false
            for entry in entries {
                if let key = greatestKey, !entry.key.lexicographicallyPrecedes(key) && entry.key != key {
                    // Beyond everything seen: the scan moves on.
                } else if greatestKey != nil {
                    let at = greatestKey.flatMap { RawTableEntry(key: $0, value: []).eventPosition }
                    let p = entry.eventPosition
                    problem(.order, position: p ?? at,
                            p == at ? "position \(p.map(String.init) ?? "?") appears twice in the events table"
                                    : "position \(p.map(String.init) ?? "(a key of \(entry.key.count) bytes)") appears after position \(at.map(String.init) ?? "?"): the events table's keys are out of order")
                    replayBroken = true
                    continue
                }
                greatestKey = entry.key
                advanced = true
                guard let position = entry.eventPosition else {
                    problem(.key, position: next, "an events key of \(entry.key.count) bytes (not 8) follows position \(next - 1)")
                    replayBroken = true
                    afterGap = true
                    continue
                }
                if position > end { reachedEnd = true; break }
                guard let stored = entry.storedEvent else {
                    problem(.length, position: position, "event at position \(position) is \(entry.value.count) bytes, shorter than its 32-byte chain hash")
                    scanned.record(position, .unreadable)
                    replayBroken = true
                    afterGap = true
                    if position >= next { next = position + 1 }
                    checked += 1
                    continue
                }
                check(RawEvent(position: position, chainHash: stored.chainHash, json: stored.json), events: &events, batch: &batch)
            }
            if let replayer, !batch.isEmpty {
                do { try await replayer.appendChecked(events, raws: batch) } catch {
                    problem(.replay, position: batch.first?.position, "replaying positions \(batch.first!.position)…\(batch.last!.position) into a scratch store failed: \(error)")
                    replayBroken = true
                }
            }
            progress?(next - 1, end)
            if reachedEnd { return }
            if !advanced {
                // A whole chunk behind keys already seen: the B-tree's order is too damaged to walk on.
                problem(.order, position: next, "the events table's key order is damaged after position \(next - 1); the scan stops there")
                replayBroken = true
                scanStopped = true
            }
        }
    }

    private func check(_ raw: RawEvent, events: inout [EncodedEvent], batch: inout [RawEvent]) {
        checked += 1
        if raw.position != next {
            problem(.gap, position: next, raw.position == next + 1
                    ? "position \(next) is missing (the log jumps from \(next - 1) to \(raw.position))"
                    : "positions \(next)…\(raw.position - 1) are missing (the log jumps from \(next - 1) to \(raw.position))")
            replayBroken = true
            afterGap = true
        }
        // The chain: recompute from the previous stored hash.
        let recomputed = raw.json.withUnsafeBytes { ChainHash.next(after: previousStored, position: raw.position, json: $0, format: source.formatVersion) }
        var chainOK = recomputed == raw.chainHash
        if !chainOK && previousChainBad {
            // The previous event's stored hash was the damaged part: this one chains from its
            // recomputed hash, and the damage has been reported there.
            let alt = raw.json.withUnsafeBytes { ChainHash.next(after: previousRecomputed, position: raw.position, json: $0, format: source.formatVersion) }
            if alt == raw.chainHash { chainOK = true }
        }
        if !chainOK && !afterGap {
            problem(.chain, position: raw.position,
                    "chain hash mismatch at position \(raw.position): stored \(raw.chainHash.hex), recomputed \(recomputed.hex) (the event's bytes or its stored hash were changed)")
            replayBroken = true
        }
        previousChainBad = !chainOK
        previousRecomputed = recomputed
        previousStored = raw.chainHash
        afterGap = false
        next = raw.position + 1
        lastStored = LogHead(position: raw.position, chainHash: raw.chainHash)
        // The envelope: decodable and canonical. Proven in place when it is (the common case);
        // otherwise decoded, which names what is wrong.
        if let proven = EncodedEvent.proven(stored: raw.json, scratch: &scratch) {
            scanned.record(raw.position, .event(tenant: proven.tenant, id: proven.id))
            if !replayBroken {
                events.append(proven)
                batch.append(raw)
            }
            return
        }
        let envelope: EventEnvelope
        do { envelope = try raw.decode().envelope } catch {
            problem(.decode, position: raw.position, "event at position \(raw.position) cannot be decoded: \(error.message)")
            scanned.record(raw.position, .unreadable)
            replayBroken = true
            return
        }
        scanned.record(raw.position, .event(tenant: envelope.tenant, id: envelope.id))
        let encoded: EncodedEvent
        do { encoded = try EncodedEvent(envelope) } catch {
            problem(.canonical, position: raw.position, "event at position \(raw.position) is not a valid envelope: \(error.message)")
            replayBroken = true
            return
        }
        let canonical = encoded.json
        if canonical != raw.json {
            let at = zip(canonical, raw.json).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(canonical.count, raw.json.count)
            problem(.canonical, position: raw.position, "event at position \(raw.position) is not in canonical form (first difference at byte \(at) of \(raw.json.count))")
            replayBroken = true
            return
        }
        if !replayBroken {
            events.append(encoded)
            batch.append(raw)
        }
    }

    /// Walks `table` entry by entry, `limit` per short read transaction.
    private func forEachEntry(_ table: LogTable, _ body: (RawTableEntry) -> Void) throws {
        var after: [UInt8]?
        while true {
            let entries = try source.rawEntries(table, after: after, limit: 65_536)
            guard let last = entries.last else { return }
            step?("comparing \(table.rawValue) with the log")
            for e in entries where after.map({ $0.lexicographicallyPrecedes(e.key) }) ?? true { body(e) }
            guard after.map({ $0.lexicographicallyPrecedes(last.key) }) ?? true else { return }
            after = last.key
        }
    }

    /// The tenant index and the id index hold exactly one entry per event through `end`, each
    /// naming that event (its tenant; its id): compared entry by entry in both directions.
    private func checkIndexes(through end: UInt64) throws {
        step?("comparing the indexes with the log through position \(end)")
        var inTenantIndex = Set<UInt64>()
        // Entries past the scan's head: appended since, or planted. An index entry is written in
        // the transaction that appends its event, and the log only grows, so an entry read now
        // whose event the log does not hold when looked up afterwards is not the log's.
        var beyond: [(kind: VerifyReport.Problem.Kind, position: UInt64, what: String)] = []
        func later(_ kind: VerifyReport.Problem.Kind, _ p: UInt64, _ what: String) {
            if beyond.count < Self.maxProblems * 10 { beyond.append((kind, p, what)) }
        }
        try forEachEntry(.tenantEvents) { e in
            guard let (tenant, p) = e.tenantIndexKey else {
                problem(.tenantIndex, "a tenant_events key of \(e.key.count) bytes is not a tenant, a NUL and an 8-byte position")
                return
            }
            guard p <= end else { return later(.tenantIndex, p, "the tenant index lists position \(p) under tenant \(tenant)") }
            switch scanned[p] {
            case .absent:
                problem(.tenantIndex, position: p, "the tenant index lists position \(p) under tenant \(tenant), but the log has no event there")
            case .unreadable: inTenantIndex.insert(p)
            case let .event(owner, _):
                if owner == tenant { inTenantIndex.insert(p) } else {
                    problem(.tenantIndex, position: p, "the tenant index lists position \(p) under tenant \(tenant), but that event belongs to tenant \(owner)")
                }
            }
        }
        var inIDIndex = Set<UInt64>()
        try forEachEntry(.eventIDs) { e in
            guard let (id, p) = e.eventIDIndex else {
                problem(.eventIDs, "an event_ids entry with a \(e.key.count)-byte key and a \(e.value.count)-byte value is not an event id and a position")
                return
            }
            guard p <= end else { return later(.eventIDs, p, "event_ids maps id \(id) to position \(p)") }
            switch scanned[p] {
            case .absent:
                problem(.eventIDs, position: p, "event_ids maps id \(id) to position \(p), but the log has no event there")
            case .unreadable: inIDIndex.insert(p)
            case let .event(_, owner):
                if owner == id { inIDIndex.insert(p) } else {
                    problem(.eventIDs, position: p, "event_ids maps id \(id) to position \(p), whose event has id \(owner)")
                }
            }
        }
        if !beyond.isEmpty {
            let head = try source.head().position
            for (kind, p, what) in beyond where p > head {
                problem(kind, position: p, "\(what), past the log's head \(head): the log has no event there")
            }
        }
        for p in scanned.positions where p <= end {
            guard case let .event(tenant, id) = scanned[p] else { continue }
            if !inTenantIndex.contains(p) {
                problem(.tenantIndex, position: p, "event at position \(p) (tenant \(tenant)) is missing from the tenant index")
            }
            if !inIDIndex.contains(p) {
                problem(.eventIDs, position: p, "event at position \(p) (id \(id)) is missing from event_ids")
            }
        }
    }

    /// Compares live digests, read in one transaction whose head is `at`, with the scratch
    /// store's; returns `nil` when the live head is no longer `at`.
    private func compareLive(at position: UInt64, replayer: Replayer) throws -> [VerifyReport.ProjectionCheck]? {
        precondition(replayer.replayed == position || (position == 0 && replayer.replayed == 0))
        step?("digesting the rebuilt projections")
        let rebuilt = try replayer.digests(projections)
        return try source.read { live -> [VerifyReport.ProjectionCheck]? in
            if position > 0, try live.rawEvent(at: position) == nil { return nil }
            if try live.rawEvent(at: position + 1) != nil { return nil }
            var out: [VerifyReport.ProjectionCheck] = []
            for (p, r) in zip(projections, rebuilt) {
                step?("comparing projection \(p.name) with its rebuild")
                let l = try ProjectionDigest.compute(p, in: live)
                out.append(.init(name: p.name, live: l.hex, rebuilt: r.hex, entries: l.entries, at: position))
                if l.hex != r.hex {
                    let diff = try replayer.scratch.store.read { scratch -> (String, [UInt8], String)? in
                        for t in p.tableNames {
                            if let d = try ProjectionDigest.firstDifference(.projection(p.name, t), live, scratch) {
                                return (t, d.key, d.what)
                            }
                        }
                        return nil
                    }
                    if let (t, key, what) = diff {
                        let k = ProjectionDigest.describe(key)
                        problem(.projection, projection: p.name, key: k,
                                "projection \(p.name) differs from its rebuild at position \(position): table \(t), key \(k): \(what)")
                    }
                }
            }
            return out
        }
    }
}
