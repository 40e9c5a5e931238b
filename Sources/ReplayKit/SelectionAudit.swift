package import CanonicalJSON
package import EventLog
import Foundation
package import Inventory

/// `atlas-replay audit selections`: checks every run's selection against today's parser and
/// recomputes, for each selection, what is missing purely from that selection's own events —
/// an implementation independent of the projections — and compares it with
/// `InventoryQueries.missing`.
///
/// The independent rule: the latest completed run L of tenant + selection hash is the one whose
/// (first) `sync_run_finished` carrying that hash has the highest position. For each type L
/// enumerated (its `resolved_types`, else the selection's), an item observed under that
/// selection hash by some completed run but not by L is *missing* when L enumerated the type
/// completely, else *unknown*. Confidence is low when L did not succeed or had errors.
package struct SelectionAudit {
    package struct Flag: Sendable, Hashable {
        package var kind: Kind
        package var tenant: String
        package var runID: String?
        package var position: UInt64?
        package var message: String

        package var json: JSONValue {
            .object(["kind": .string(kind.rawValue), "tenant": .string(tenant), "run_id": runID.map { .string($0) } ?? .null,
                     "position": position.map { .number(Double($0)) } ?? .null, "message": .string(message)])
        }
    }

    package struct RunSummary: Sendable, Hashable {
        package var runID: String
        package var status: SyncRunStatus
        package var startedPosition: UInt64?
        package var finishedPosition: UInt64?
        package var storedHash: String
        package var recomputedHash: String?
        package var observations: Int
    }

    package struct SelectionSummary: Sendable, Hashable {
        package var tenant: String
        package var hash: String
        package var selection: JSONValue
        package var runs: [RunSummary]
        package var latestCompletedRun: String?
        package var missing: [String]
        package var unknown: [String]
        /// Whether the projection's answer agreed (`nil`: not compared).
        package var agrees: Bool?
    }

    package var head: UInt64
    package var selections: [SelectionSummary]
    package var flags: [Flag]
    package var notes: [String]

    package var json: JSONValue {
        var tenants: [String: [JSONValue]] = [:]
        for s in selections {
            tenants[s.tenant, default: []].append(.object([
                "selection_hash": .string(s.hash), "selection": s.selection,
                "latest_completed_run": s.latestCompletedRun.map { .string($0) } ?? .null,
                "missing": .array(s.missing.map { .string($0) }), "unknown": .array(s.unknown.map { .string($0) }),
                "projection_agrees": s.agrees.map { .bool($0) } ?? .null,
                "runs": .array(s.runs.map { r in
                    .object(["run_id": .string(r.runID), "status": .string(r.status.rawValue),
                             "started_position": r.startedPosition.map { .number(Double($0)) } ?? .null,
                             "finished_position": r.finishedPosition.map { .number(Double($0)) } ?? .null,
                             "stored_selection_hash": .string(r.storedHash),
                             "recomputed_selection_hash": r.recomputedHash.map { .string($0) } ?? .null,
                             "observations": .number(Double(r.observations))])
                }),
            ]))
        }
        return .object([
            "status": .string(flags.isEmpty ? "ok" : "flagged"), "head": .number(Double(head)),
            "tenants": .object(tenants.mapValues { .array($0) }),
            "flags": .array(flags.map(\.json)), "notes": .array(notes.map { .string($0) }),
        ])
    }

    // MARK: Running

    struct Run {
        var tenant: String
        var runID: String
        var index: Int
        var startedHash: String?
        var selection: JSONValue = .null
        var resolvedTypes: [String] = []
        var parsed: Selection?
        var recomputedHash: String?
        var startedPosition: UInt64?
        var finishedPosition: UInt64?
        var finishedHash: String?
        var status: SyncRunStatus = .running
        var hadErrors = false
        var types: [String: Bool] = [:]
        var observations = 0
    }

    struct ItemKey: Hashable, Comparable {
        var type: String
        var id: String
        static func < (a: ItemKey, b: ItemKey) -> Bool { (a.type, a.id) < (b.type, b.id) }
    }

    struct GroupKey: Hashable { var tenant: String; var hash: String }

    /// The state built from the events, extended chunk by chunk.
    final class State {
        var runs: [GroupKey: Int] = [:]  // (tenant, run id) → index; hash field holds the run id
        var list: [Run] = []
        /// Per tenant + selection hash (of the observation): item → indices of the runs that observed it.
        var observed: [GroupKey: [ItemKey: [Int]]] = [:]
        var flags: [Flag] = []
        var next: UInt64 = 1
    }

    /// Audits `tenant` (all tenants when `nil`) through the head, comparing with the live
    /// projection at the same head (retrying up to `attempts` times while a writer appends).
    package static func run(_ store: any EventStore, tenant: String?, attempts: Int = 5) throws -> SelectionAudit {
        let state = State()
        var head = try store.head().position
        var notes: [String] = []
        try scan(store, tenant: tenant, through: head, state: state)
        var summaries: [SelectionSummary] = []
        var compared = false
        for attempt in 1...max(1, attempts) {
            summaries = independentMissing(state)
            // The projection must be read at exactly `head`: the head is the same before and
            // after the queries, and each query is one read transaction.
            let queries = InventoryQueries(store: store)
            var answers: [Int: MissingReport] = [:]
            for (i, s) in summaries.enumerated() {
                guard let sel = selection(for: s, state) else { continue }
                answers[i] = try queries.missing(tenant: s.tenant, selection: sel)
            }
            let after = try store.head().position
            if after == head {
                for (i, report) in answers {
                    let agrees = compare(&summaries[i], report, state: state)
                    summaries[i].agrees = agrees
                }
                compared = true
                break
            }
            notes.append("attempt \(attempt): the log moved from \(head) to \(after) while comparing; reading the new events and comparing again")
            try scan(store, tenant: tenant, through: after, state: state)
            head = after
        }
        if !compared {
            notes.append("the store was too busy: missing/unknown was not compared with the projection")
        }
        for s in summaries where s.agrees == nil && compared {
            notes.append("selection \(s.hash) of \(s.tenant) was not compared with the projection: no run of it has a selection today's parser accepts with that hash")
        }
        return SelectionAudit(head: head, selections: summaries, flags: state.flags, notes: notes)
    }

    static func scan(_ store: any EventStore, tenant: String?, through end: UInt64, state: State) throws {
        guard state.next <= end else { return }
        try store.forEachRawEvent(from: state.next, through: end, chunk: 8192) { raw in
            state.next = raw.position + 1
            if let f = EnvelopeFields.read(raw.json) {
                if let tenant, f.tenant != tenant { return true }
                if !f.type.hasPrefix("inventory.") { return true }
            }
            let e = try raw.decode().envelope
            if let tenant, e.tenant != tenant { return true }
            try apply(e, position: raw.position, state: state)
            return true
        }
    }

    static func run(_ state: State, _ tenant: String, _ runID: String) -> Int {
        let key = GroupKey(tenant: tenant, hash: runID)
        if let i = state.runs[key] { return i }
        let i = state.list.count
        state.list.append(Run(tenant: tenant, runID: runID, index: i))
        state.runs[key] = i
        return i
    }

    static func apply(_ e: EventEnvelope, position: UInt64, state: State) throws {
        func flag(_ kind: Flag.Kind, _ run: String?, _ message: String) {
            state.flags.append(Flag(kind: kind, tenant: e.tenant, runID: run, position: position, message: message))
        }
        switch e.type {
        case InventoryEventType.syncRunStarted:
            let p: SyncRunStarted
            do { p = try SyncRunStarted(data: e.data) } catch {
                flag(.payload, nil, "sync_run_started at \(position) has a malformed payload: \(error)")
                return
            }
            let i = run(state, e.tenant, p.runID)
            state.list[i].startedHash = p.selectionHash
            state.list[i].selection = p.selection
            state.list[i].resolvedTypes = p.resolvedTypes
            state.list[i].startedPosition = position
            do {
                let parsed = try SelectionParser.parse(p.selection)
                state.list[i].parsed = parsed.selection
                state.list[i].recomputedHash = parsed.selection.hash
                if parsed.selection.hash != p.selectionHash {
                    flag(.selectionHash, p.runID,
                         "run \(p.runID) (position \(position)) stores selection_hash \(p.selectionHash), but its stored selection hashes to \(parsed.selection.hash) today")
                }
                if !parsed.droppedPolicyTypes.isEmpty || !parsed.droppedCategories.isEmpty {
                    flag(.selectionHash, p.runID,
                         "run \(p.runID)'s stored selection has values today's registry drops: \((parsed.droppedPolicyTypes + parsed.droppedCategories).joined(separator: ", "))")
                }
            } catch {
                flag(.selectionUnparseable, p.runID, "run \(p.runID)'s stored selection is not accepted by today's parser: \(error.message)")
            }
        case InventoryEventType.policyTypeEnumerated:
            guard let p = try? PolicyTypeEnumerated(data: e.data) else {
                flag(.payload, nil, "policy_type_enumerated at \(position) has a malformed payload")
                return
            }
            let i = run(state, e.tenant, p.runID)
            state.list[i].types[p.policyType] = p.complete
        case InventoryEventType.itemObserved:
            guard let p = try? ItemObserved(data: e.data) else {
                flag(.payload, nil, "item_observed at \(position) has a malformed payload")
                return
            }
            let i = run(state, e.tenant, p.runID)
            let r = state.list[i]
            state.list[i].observations += 1
            if r.startedPosition == nil {
                flag(.unknownRun, p.runID, "item_observed at \(position) belongs to run \(p.runID), which has no sync_run_started before it")
            } else {
                if let h = r.startedHash, h != p.selectionHash {
                    flag(.selectionHashOfObservation, p.runID,
                         "item_observed at \(position) carries selection_hash \(p.selectionHash), its run \(p.runID) has \(h)")
                }
                if let sel = r.parsed, !sel.resolvedTypes.contains(where: { $0.key == p.policyType }) {
                    flag(.outsideSelection, p.runID,
                         "run \(p.runID) observed \(p.policyType)/\(p.externalID) at \(position), outside its selection's resolved types (\(sel.resolvedTypes.map(\.key).joined(separator: ",")))")
                } else if !r.resolvedTypes.contains(p.policyType) {
                    flag(.outsideResolvedTypes, p.runID,
                         "run \(p.runID) observed \(p.policyType)/\(p.externalID) at \(position), outside the resolved_types it recorded")
                }
            }
            let g = GroupKey(tenant: e.tenant, hash: p.selectionHash)
            state.observed[g, default: [:]][ItemKey(type: p.policyType, id: p.externalID), default: []].append(i)
        case InventoryEventType.syncRunFinished:
            guard let p = try? SyncRunFinished(data: e.data) else {
                flag(.payload, nil, "sync_run_finished at \(position) has a malformed payload")
                return
            }
            let i = run(state, e.tenant, p.runID)
            guard state.list[i].finishedPosition == nil else { return }  // a run finishes once
            state.list[i].finishedPosition = position
            state.list[i].finishedHash = p.selectionHash
            state.list[i].status = p.status
            state.list[i].hadErrors = p.hadErrors
        default:
            return
        }
    }

    /// The selection (today's parse of a run's stored payload) whose hash is `s.hash`.
    static func selection(for s: SelectionSummary, _ state: State) -> Selection? {
        for r in state.list where r.tenant == s.tenant && r.startedHash == s.hash {
            if let p = r.parsed, p.hash == s.hash { return p }
        }
        return nil
    }

    static func label(_ k: ItemKey) -> String { "\(k.type)/\(k.id)" }

    /// Each tenant's selections with their runs and the independently derived missing/unknown.
    static func independentMissing(_ state: State) -> [SelectionSummary] {
        var groups: [GroupKey: [Int]] = [:]
        for r in state.list {
            let hash = r.startedHash ?? r.finishedHash ?? ""
            groups[GroupKey(tenant: r.tenant, hash: hash), default: []].append(r.index)
        }
        for g in state.observed.keys where groups[g] == nil { groups[g] = [] }
        var out: [SelectionSummary] = []
        for (g, indices) in groups.sorted(by: { ($0.key.tenant, $0.key.hash) < ($1.key.tenant, $1.key.hash) }) {
            let runs = indices.map { state.list[$0] }
            // Latest completed: highest finish position among runs whose finish carries the hash.
            let latest = state.list.filter { $0.tenant == g.tenant && $0.finishedHash == g.hash && $0.finishedPosition != nil }
                .max { $0.finishedPosition! < $1.finishedPosition! }
            var missing: [ItemKey] = [], unknown: [ItemKey] = []
            if let latest {
                let covered = runs.first(where: { $0.parsed != nil })?.parsed?.resolvedTypes.map(\.key) ?? []
                let types = Set(latest.resolvedTypes.isEmpty ? covered : latest.resolvedTypes)
                for (item, observers) in state.observed[g] ?? [:] where types.contains(item.type) {
                    if observers.contains(latest.index) { continue }
                    guard observers.contains(where: { state.list[$0].finishedPosition != nil }) else { continue }
                    if latest.types[item.type] == true { missing.append(item) } else { unknown.append(item) }
                }
            }
            let selection = runs.first(where: { $0.startedPosition != nil })?.selection ?? .null
            out.append(SelectionSummary(
                tenant: g.tenant, hash: g.hash, selection: selection,
                runs: runs.sorted { ($0.startedPosition ?? $0.finishedPosition ?? 0) < ($1.startedPosition ?? $1.finishedPosition ?? 0) }.map {
                    RunSummary(runID: $0.runID, status: $0.status, startedPosition: $0.startedPosition,
                               finishedPosition: $0.finishedPosition, storedHash: $0.startedHash ?? $0.finishedHash ?? "",
                               recomputedHash: $0.recomputedHash, observations: $0.observations)
                },
                latestCompletedRun: latest?.runID, missing: missing.sorted().map(label), unknown: unknown.sorted().map(label),
                agrees: nil))
        }
        return out
    }

    /// Compares the projection's report with the independent one; flags a difference.
    static func compare(_ s: inout SelectionSummary, _ report: MissingReport, state: State) -> Bool {
        let pm = report.missing.map { "\($0.policyType)/\($0.externalID)" }.sorted()
        let pu = report.unknown.map { "\($0.policyType)/\($0.externalID)" }.sorted()
        var diffs: [String] = []
        if report.latestRun?.runID != s.latestCompletedRun {
            diffs.append("latest completed run: projection \(report.latestRun?.runID ?? "none"), events \(s.latestCompletedRun ?? "none")")
        }
        if pm != s.missing {
            diffs.append("missing: projection \(pm.count), events \(s.missing.count) (differing: \(Set(pm).symmetricDifference(s.missing).sorted().prefix(5).joined(separator: ", ")))")
        }
        if pu != s.unknown {
            diffs.append("unknown: projection \(pu.count), events \(s.unknown.count) (differing: \(Set(pu).symmetricDifference(s.unknown).sorted().prefix(5).joined(separator: ", ")))")
        }
        if let latest = state.list.first(where: { $0.tenant == s.tenant && $0.runID == s.latestCompletedRun }) {
            let low = latest.status != .success || latest.hadErrors
            if low != report.lowConfidence { diffs.append("low_confidence: projection \(report.lowConfidence), events \(low)") }
        }
        if diffs.isEmpty { return true }
        state.flags.append(Flag(kind: .missingDiffers, tenant: s.tenant, runID: s.latestCompletedRun, position: nil,
                                message: "selection \(s.hash): the projection's missing report differs from the events: " + diffs.joined(separator: "; ")))
        return false
    }
}
