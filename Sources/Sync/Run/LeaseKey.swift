/// A key of the state table `run_leases` (``RunLease/table``): a run's lock on its tenant +
/// selection, or its slot for the concurrency limits.
///
/// Bytes: `L` ‖ tenant ‖ 0x00 ‖ selection hash (hex) for a lock; `S` ‖ tenant ‖ 0x00 ‖ run id
/// for a slot. Both keys' values are the ``RunLease``.
enum LeaseKey: Sendable, Hashable {
    /// The lock of a tenant + selection: at most one live run holds it.
    case lock(tenant: String, selectionHash: String)
    /// The slot of a live run, counted against the concurrency limits.
    case slot(tenant: String, runID: String)

    private static let lockTag = UInt8(ascii: "L")
    private static let slotTag = UInt8(ascii: "S")

    /// Every lock key.
    static let lockPrefix: [UInt8] = [lockTag]
    /// Every slot key.
    static let slotPrefix: [UInt8] = [slotTag]

    /// The key's bytes.
    var encoded: [UInt8] {
        switch self {
        case .lock(let tenant, let selectionHash): [Self.lockTag] + Array(tenant.utf8) + [0] + Array(selectionHash.utf8)
        case .slot(let tenant, let runID): [Self.slotTag] + Array(tenant.utf8) + [0] + Array(runID.utf8)
        }
    }

    /// Reads a key; `nil` when `bytes` are not one.
    init?<Bytes: Collection<UInt8>>(decoding bytes: Bytes) {
        guard let tag = bytes.first, let zero = bytes.firstIndex(of: 0) else { return nil }
        let tenant = bytes[bytes.index(after: bytes.startIndex)..<zero]
        let rest = bytes[bytes.index(after: zero)...]
        guard let tenant = String(validating: tenant, as: UTF8.self), let rest = String(validating: rest, as: UTF8.self) else { return nil }
        switch tag {
        case Self.lockTag: self = .lock(tenant: tenant, selectionHash: rest)
        case Self.slotTag: self = .slot(tenant: tenant, runID: rest)
        default: return nil
        }
    }
}
