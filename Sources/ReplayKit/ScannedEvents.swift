import EventLog

/// What a verification scan saw at each position of the `events` table (the tenant and id of
/// each readable event), so the indexes can be compared with the log entry by entry. Dense
/// positions are kept in arrays; a position far beyond the others (a damaged key) in a
/// dictionary, so a hostile key cannot make the scan allocate without bound.
struct ScannedEvents {
    /// What is known about one position.
    enum Entry: Equatable {
        /// The table has no event there.
        case absent
        /// An event whose envelope could not be read.
        case unreadable
        case event(tenant: String, id: EventID)
    }

    private var tenantNames: [String] = []
    private var tenantNumbers: [String: UInt32] = [:]
    /// Per position - 1: `absentMark`, `unreadableMark` or an index into `tenantNames`.
    private var tenants: [UInt32] = []
    private var ids: [EventID?] = []
    private var sparse: [UInt64: Entry] = [:]
    private static let absentMark = UInt32.max
    private static let unreadableMark = UInt32.max - 1
    /// How far past the dense range a position may lie and still extend it.
    private static let denseReach: UInt64 = 1 << 16

    /// Every position recorded as holding an event (readable or not), in order.
    private(set) var positions: [UInt64] = []

    mutating func record(_ position: UInt64, _ entry: Entry) {
        guard entry != .absent else { return }
        positions.append(position)
        if position >= 1 && position <= UInt64(tenants.count) + Self.denseReach {
            let i = Int(position - 1)
            if i >= tenants.count {
                tenants.append(contentsOf: repeatElement(Self.absentMark, count: i + 1 - tenants.count))
                ids.append(contentsOf: repeatElement(nil, count: i + 1 - ids.count))
            }
            switch entry {
            case .absent: break
            case .unreadable: tenants[i] = Self.unreadableMark
            case let .event(tenant, id):
                tenants[i] = number(tenant)
                ids[i] = id
            }
        } else {
            sparse[position] = entry
        }
    }

    subscript(position: UInt64) -> Entry {
        if position >= 1 && position <= UInt64(tenants.count) {
            let i = Int(position - 1)
            switch tenants[i] {
            case Self.absentMark: return .absent
            case Self.unreadableMark: return .unreadable
            case let t: return .event(tenant: tenantNames[Int(t)], id: ids[i]!)
            }
        }
        return sparse[position] ?? .absent
    }

    private mutating func number(_ tenant: String) -> UInt32 {
        if let n = tenantNumbers[tenant] { return n }
        let n = UInt32(tenantNames.count)
        tenantNames.append(tenant)
        tenantNumbers[tenant] = n
        return n
    }
}
