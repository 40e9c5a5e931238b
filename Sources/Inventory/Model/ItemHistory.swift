package import CanonicalJSON
package import EventLog

/// What happened to one item across a tenant's runs (`atlas history`): one entry per finished
/// run of the tenant (any selection) whose resolved types include the item's policy type, from
/// the first run that observed the item, in log order (by the position of the run's finish).
package struct ItemHistory: Sendable, Hashable {
    /// Whether a run saw the item.
    package enum Status: String, Sendable, Hashable, CaseIterable {
        /// The run observed the item.
        case observed
        /// The run enumerated the policy type completely and the item was not among them.
        case notSeen = "not_seen"
        /// The run did not enumerate the policy type completely: it cannot say.
        case unknown
    }

    /// What an entry means next to the ones before it. `unknown` entries are skipped when
    /// comparing: the entry after them is judged against the last run that could tell.
    package enum Change: String, Sendable, Hashable, CaseIterable {
        /// The first observation.
        case firstSeen = "first_seen"
        /// Observed with a content hash other than the last observation's.
        case changed
        /// Observed with the last observation's content hash.
        case unchanged
        /// The first `not_seen` after an observation.
        case disappeared
        /// Still not seen.
        case absent
        /// Observed after `not_seen` (whatever its content hash).
        case reappeared
        /// The run could not tell.
        case unknown
    }

    /// One run's verdict on the item.
    package struct Entry: Sendable, Hashable {
        package var runID: String
        package var selectionHash: String
        package var finishedAt: Timestamp?
        /// The log position of the run's finish event.
        package var position: UInt64
        package var status: Status
        package var change: Change
        /// The observed content hash (observed entries only).
        package var contentSHA256: String?
        /// The observed display name (observed entries only).
        package var displayName: String?

        package var json: JSONValue {
            var o: [String: JSONValue] = [
                "run_id": .string(runID), "selection_hash": .string(selectionHash),
                "finished_at": finishedAt.map { .string($0.description) } ?? .null,
                "position": .number(Double(position)), "status": .string(status.rawValue), "change": .string(change.rawValue),
            ]
            if let contentSHA256 { o["content_sha256"] = .string(contentSHA256) }
            return .object(o)
        }
    }

    package var tenant: String
    package var policyType: String
    package var externalID: String
    /// Empty when no finished run of the tenant observed the item.
    package var entries: [Entry]

    package var json: JSONValue {
        .object(["tenant": .string(tenant), "policy_type": .string(policyType), "external_id": .string(externalID),
                 "entries": .array(entries.map(\.json))])
    }

    /// Classifies run verdicts given in log order: drops the runs before the first observation
    /// and names each entry's change against the last run that could tell.
    static func entries(_ verdicts: [(run: SyncRun, observation: ItemObserved?)], policyType: String) -> [Entry] {
        var out: [Entry] = []
        var lastHash: String?
        var lastSeen: Bool?  // the last verdict that was not unknown: observed (true) or not seen (false)
        for (run, observation) in verdicts {
            let status: Status = observation != nil ? .observed : (run.types[policyType]?.complete == true ? .notSeen : .unknown)
            if lastHash == nil && status != .observed { continue }
            let change: Change
            switch status {
            case .observed:
                let hash = observation!.contentSHA256
                if lastHash == nil { change = .firstSeen } else if lastSeen == false { change = .reappeared } else {
                    change = hash == lastHash ? .unchanged : .changed
                }
                lastHash = hash
                lastSeen = true
            case .notSeen:
                change = lastSeen == true ? .disappeared : .absent
                lastSeen = false
            case .unknown:
                change = .unknown
            }
            out.append(Entry(runID: run.runID, selectionHash: run.selectionHash, finishedAt: run.finishedAt,
                             position: run.finishedPosition ?? 0, status: status, change: change,
                             contentSHA256: observation?.contentSHA256, displayName: observation?.displayName))
        }
        return out
    }
}
