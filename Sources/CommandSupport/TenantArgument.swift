import ArgumentParser
package import Inventory

/// Reading `--tenant` arguments: any case is accepted and turned into the canonical form
/// (``TenantID``); a tenant the store has never seen gets a hint on stderr.
package enum TenantArgument {
    /// The canonical form of `text`, or a usage error naming the problem.
    package static func canonical(_ text: String) throws -> String {
        do { return try TenantID(text).value } catch { throw ValidationError(error.message) }
    }

    /// Says on stderr that `tenant` is not in the store, with the closest known tenants, when
    /// it has no run there. The answer printed stays the (empty) answer; the exit code 0.
    package static func noteIfUnknown(_ tenant: String, queries: InventoryQueries) {
        guard let known = try? queries.tenantNames(), !known.contains(tenant) else { return }
        let close = closest(to: tenant, among: known)
        if known.isEmpty {
            Output.note("note: the store has no runs of any tenant; tenant \(tenant) is unknown")
        } else if close.isEmpty {
            Output.note("note: tenant \(tenant) is not in this store (\(known.count) known; `atlas tenants` lists them)")
        } else {
            Output.note("note: tenant \(tenant) is not in this store; closest known: \(close.joined(separator: ", "))")
        }
    }

    /// Up to three of `names` within an edit distance of a sixth of `name`'s length (at least
    /// 2), nearest first.
    static func closest(to name: String, among names: [String]) -> [String] {
        let limit = max(2, name.count / 6)
        var scored: [(name: String, distance: Int)] = []
        for candidate in names {
            let d = editDistance(name, candidate)
            if d <= limit { scored.append((candidate, d)) }
        }
        scored.sort { a, b in a.distance != b.distance ? a.distance < b.distance : a.name < b.name }
        return scored.prefix(3).map { $0.name }
    }

    /// Levenshtein distance over characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let substitution: Int = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                let insertion: Int = current[j - 1] + 1
                current[j] = min(previous[j] + 1, insertion, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
