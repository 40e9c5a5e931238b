import EventLog
import Foundation

extension InventoryQueries {
    /// What the latest completed run of `tenant` + `selection` did not see (see ``MissingReport``).
    /// Derived on every call from the `selection_observations` index; it reads the rows of the
    /// items the latest completed run did not see, not the whole inventory.
    package func missing(tenant: String, selection: Selection) throws -> MissingReport {
        try missing(tenant: tenant, selectionHash: selection.hash, coveredTypes: selection.resolvedTypes.map(\.key))
    }

    func missing(tenant: String, selectionHash: String, coveredTypes: [String]) throws -> MissingReport {
        try store.read { r in try Self.missing(in: r, tenant: tenant, selectionHash: selectionHash, coveredTypes: coveredTypes) }
    }

    /// The rule (docs/inventory-events.md, *Missing*): for each item observed under the
    /// selection, the newest *completed* run among the runs that last observed it decides; it
    /// is missing (or unknown) when that run is not L, the latest completed run.
    ///
    /// The `by_last_runs` index groups the items by their two newest observing runs. Two
    /// groups are skipped whole, since their items are present: newest run L, and newest run a
    /// run that has not completed with L before it. Every other item is a candidate, decided
    /// by the rule on its `observations` row; once no run is live, the candidates are exactly
    /// the items L did not see.
    static func missing(in r: any KeyValueReader, tenant: String, selectionHash: String, coveredTypes: [String]) throws -> MissingReport {
        guard let latest = try latestCompletedRun(in: r, tenant: tenant, selectionHash: selectionHash) else {
            return MissingReport(latestRun: nil, lowConfidence: true, missing: [], unknown: [])
        }
        let latestID = try InventoryKeys.runIDBytes(latest.runID)
        let hash = try InventoryKeys.hashBytes(selectionHash)
        let types = latest.resolvedTypes.isEmpty ? coveredTypes : latest.resolvedTypes
        var typeOrder: [String: Int] = [:]
        for (i, t) in types.enumerated() where typeOrder[t] == nil { typeOrder[t] = i }

        var completedCache: [[UInt8]: Bool] = [latestID: true]
        func completed(_ run: [UInt8]) throws -> Bool {
            if let c = completedCache[run] { return c }
            let done = try SyncRunsProjection.load(r, tenant, run)?.isCompleted ?? false
            completedCache[run] = done
            return done
        }

        // 1. The candidates: every index entry outside the two skipped groups.
        let prefix = LastRunsKey.selectionPrefix(tenant, hash)
        // policy type ‖ 0 ‖ external id, and whether the item's newest run has completed (then
        // that run decides, and it is not L: the item is missing without reading its row).
        var candidates: [(typeAndID: [UInt8], decided: Bool)] = []
        var from: [UInt8]? = prefix
        while let start = from {
            from = nil
            // The first entry at or after `start`: which group it opens.
            var group: (newest: [UInt8], previous: [UInt8])?
            try r.scan(ObservationsProjection.byLastRuns, prefix: prefix, from: start, reverse: false) { k, _ in
                guard LastRunsKey.isValid(k, prefix: prefix.count) else {
                    throw InventoryPayloadError("by_last_runs key of \(tenant) has \(k.count) bytes")
                }
                group = (LastRunsKey.newest(k, prefix: prefix.count), LastRunsKey.previous(k, prefix: prefix.count))
                return false
            }
            guard let group else { break }
            if group.newest == latestID {
                // Seen last by L: present. Resume after L's group.
                from = LastRunsKey.successor(prefix + group.newest)
                continue
            }
            let newestCompleted = try completed(group.newest)
            if !newestCompleted && group.previous == latestID {
                // Seen last by a run still going (or never finished), and by L before it.
                from = LastRunsKey.successor(prefix + group.newest + group.previous)
                continue
            }
            // Read this group (newest + previous) whole; then go on with the next one.
            let groupPrefix = prefix + group.newest + group.previous
            try r.scan(ObservationsProjection.byLastRuns, prefix: groupPrefix, from: nil, reverse: false) { _, v in
                candidates.append((Array(v), newestCompleted))
                return true
            }
            from = LastRunsKey.successor(groupPrefix)
        }

        /// Whether the newest completed run among the item's runs exists and is not L.
        func isDecidedByAnotherRun(_ typeAndID: [UInt8]) throws -> Bool {
            let key = InventoryKeys.observation(tenant, hash[...], typeAndID: typeAndID[...])
            guard let runs = try r.withValue(ObservationsProjection.table, key, { v -> [[UInt8]]? in
                ObservationRow.isValid(v) ? ObservationRow.runs(v) : nil
            }) else {
                throw InventoryPayloadError("by_last_runs entry of \(tenant) has no valid observations row")
            }
            guard let runs else { throw InventoryPayloadError("observations row of \(tenant) has an invalid layout") }
            var decisive: [UInt8]?
            for run in runs {
                if try completed(run) {
                    decisive = run
                    break
                }
            }
            guard let decisive else { return false }
            return decisive != latestID
        }

        // 2. Each candidate decided: by its newest run when that one has completed, else by its
        // row (the newest completed run that observed it).
        var missingKeys: [(order: Int, typeAndID: [UInt8])] = []
        var unknownKeys: [(order: Int, typeAndID: [UInt8])] = []
        for (typeAndID, decided) in candidates {
            guard let zero = typeAndID.firstIndex(of: 0) else {
                throw InventoryPayloadError("by_last_runs value of \(tenant) is not policy type ‖ 0 ‖ external id")
            }
            let type = String(decoding: typeAndID[..<zero], as: UTF8.self)
            guard let order = typeOrder[type] else { continue }
            if !decided {
                guard try isDecidedByAnotherRun(typeAndID) else { continue }
            }
            if latest.types[type]?.complete ?? false {
                missingKeys.append((order, typeAndID))
            } else {
                unknownKeys.append((order, typeAndID))
            }
        }

        // 3. Their rows, ordered by type (as the selection lists them) then external id.
        func rows(_ keys: [(order: Int, typeAndID: [UInt8])]) throws -> [InventoryItem] {
            let sorted = keys.sorted { a, b in
                a.order != b.order ? a.order < b.order : a.typeAndID.lexicographicallyPrecedes(b.typeAndID)
            }
            let values = try r.values(ItemsProjection.table, sorted.map { InventoryKeys.item(tenant, typeAndID: $0.typeAndID[...]) })
            return try items(in: r, tenant: tenant, values: values.compactMap { $0 })
        }
        let low = latest.status != .success || latest.hadErrors
        return MissingReport(latestRun: latest, lowConfidence: low, missing: try rows(missingKeys), unknown: try rows(unknownKeys))
    }
}
