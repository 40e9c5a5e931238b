extension InventoryQueries {
    /// Why a selection hash does not name one selection of a tenant's runs.
    package enum SelectionLookupError: Error, Sendable, Hashable, CustomStringConvertible {
        /// No run of the tenant has a selection with this hash (or prefix).
        case unknown(hash: String, tenant: String)
        /// The prefix matches several selections (their full hashes, sorted).
        case ambiguous(prefix: String, tenant: String, matches: [String])
        /// The stored selection no longer parses to the same hash in this build.
        case changedMeaning(hash: String)

        package var description: String {
            switch self {
            case .unknown(let hash, let tenant):
                return "no run of tenant \(tenant) has a selection with hash \(hash); `atlas runs --tenant \(tenant)` lists them"
            case .ambiguous(let prefix, let tenant, let matches):
                return "selection hash prefix \(prefix) matches \(matches.count) selections of tenant \(tenant): \(matches.joined(separator: ", "))"
            case .changedMeaning(let hash):
                return "the selection with hash \(hash) no longer parses to the same hash in this build; give it with --selection"
            }
        }
    }

    /// The selection whose hash is `hash` (or starts with it, lowercase hex), recovered from
    /// `runs` (a tenant's runs, as ``runs(tenant:)`` returns them).
    package static func selection(hash: String, tenant: String, runs: [SyncRun]) throws(SelectionLookupError) -> Selection {
        let matching = Dictionary(runs.filter { $0.selectionHash.hasPrefix(hash) }.map { ($0.selectionHash, $0) }) { a, _ in a }
        guard let run = matching.values.first else { throw .unknown(hash: hash, tenant: tenant) }
        guard matching.count == 1 else { throw .ambiguous(prefix: hash, tenant: tenant, matches: matching.keys.sorted()) }
        guard let selection = try? SelectionParser.parse(run.selection).selection, selection.hash == run.selectionHash else {
            throw .changedMeaning(hash: run.selectionHash)
        }
        return selection
    }

    /// The distinct selections of `runs`, newest run first, with the newest run of each.
    package static func selections(of runs: [SyncRun]) -> [(selection: Selection, latestRun: SyncRun)] {
        var seen: Set<String> = []
        var out: [(Selection, SyncRun)] = []
        for run in runs where seen.insert(run.selectionHash).inserted {
            if let s = try? SelectionParser.parse(run.selection).selection, s.hash == run.selectionHash { out.append((s, run)) }
        }
        return out
    }
}
