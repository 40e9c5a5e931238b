import EventLog

extension InventoryQueries {
    /// Why two runs cannot be compared.
    package enum ChangesError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The tenant + selection has no completed run.
        case noCompletedRun(tenant: String, selectionHash: String)
        /// No completed run of the tenant + selection finished before the to-run.
        case noEarlierRun(toRun: String)
        /// A run id that is not a run of this tenant.
        case unknownRun(String, tenant: String)
        /// A run of the tenant with another selection.
        case otherSelection(String, selectionHash: String)
        /// A run that has not finished.
        case notCompleted(String)
        /// The same run given as both ends.
        case sameRun(String)

        package var description: String {
            switch self {
            case .noCompletedRun(let tenant, let hash): return "tenant \(tenant) has no completed run of selection \(hash)"
            case .noEarlierRun(let to): return "no completed run of this tenant and selection finished before run \(to): give --from-run"
            case .unknownRun(let id, let tenant): return "run \(id) is not a run of tenant \(tenant)"
            case .otherSelection(let id, let hash): return "run \(id) is a run of selection \(hash), not of the selection given"
            case .notCompleted(let id): return "run \(id) has not finished"
            case .sameRun(let id): return "--from-run and --to-run are the same run \(id)"
            }
        }
    }

    /// What differs between two completed runs of `tenant` + `selectionHash` (see
    /// ``RunChanges``). `toRunID` defaults to the latest completed run, `fromRunID` to the
    /// completed run before the to-run.
    ///
    /// Cost: each run's observations are read from the log, through the tenant index, between
    /// the run's start and finish: proportional to the tenant's events in those two spans.
    package func changes(tenant: String, selectionHash: String, fromRunID: String? = nil, toRunID: String? = nil) throws -> RunChanges {
        let completed = try finishedRuns(tenant: tenant).filter { $0.selectionHash == selectionHash }
        func named(_ id: String) throws -> SyncRun {
            guard let run = try run(tenant: tenant, runID: id) else { throw ChangesError.unknownRun(id, tenant: tenant) }
            guard run.selectionHash == selectionHash else { throw ChangesError.otherSelection(id, selectionHash: run.selectionHash) }
            guard run.isCompleted, run.finishedPosition != nil else { throw ChangesError.notCompleted(id) }
            return run
        }
        let to = try toRunID.map(named) ?? completed.last
        guard let to else { throw ChangesError.noCompletedRun(tenant: tenant, selectionHash: selectionHash) }
        let from = try fromRunID.map(named) ?? completed.last(where: { $0.finishedPosition! < to.finishedPosition! })
        guard let from else { throw ChangesError.noEarlierRun(toRun: to.runID) }
        guard from.runID != to.runID else { throw ChangesError.sameRun(to.runID) }

        let types = Set(from.resolvedTypes).union(to.resolvedTypes)
        let known = types.filter { from.types[$0]?.complete == true && to.types[$0]?.complete == true }
        let before = try observations(of: from, types: known)
        let after = try observations(of: to, types: known)
        func item(_ o: ItemObserved, previous: String? = nil) -> RunChanges.Item {
            RunChanges.Item(policyType: o.policyType, externalID: o.externalID, displayName: o.displayName,
                            contentSHA256: o.contentSHA256, previousContentSHA256: previous)
        }
        var added: [RunChanges.Item] = [], removed: [RunChanges.Item] = [], changed: [RunChanges.Item] = []
        for key in after.keys.sorted(by: Self.keyOrder) {
            let now = after[key]!
            if let then = before[key] {
                if then.contentSHA256 != now.contentSHA256 { changed.append(item(now, previous: then.contentSHA256)) }
            } else {
                added.append(item(now))
            }
        }
        for key in before.keys.sorted(by: Self.keyOrder) where after[key] == nil { removed.append(item(before[key]!)) }
        return RunChanges(tenant: tenant, selectionHash: selectionHash, fromRun: from, toRun: to, added: added,
                          removed: removed, changed: changed, unknownTypes: types.subtracting(known).sorted())
    }

    static func keyOrder(_ a: ItemKey, _ b: ItemKey) -> Bool {
        (a.policyType, a.externalID) < (b.policyType, b.externalID)
    }

    /// A policy type and external id.
    struct ItemKey: Hashable {
        var policyType: String
        var externalID: String
    }

    /// What `run` observed of `types`, by item (the last observation of an item in the run).
    func observations(of run: SyncRun, types: Set<String>) throws -> [ItemKey: ItemObserved] {
        var out: [ItemKey: ItemObserved] = [:]
        guard !types.isEmpty, let end = run.finishedPosition else { return out }
        let start = run.startedPosition ?? 1
        let needle = Array("\"run_id\":\"\(run.runID)\"".utf8)
        try forEachObservation(tenant: run.tenant, from: start, through: end, containing: needle) { o in
            guard o.runID == run.runID, types.contains(o.policyType) else { return }
            out[ItemKey(policyType: o.policyType, externalID: o.externalID)] = o
        }
        return out
    }
}
