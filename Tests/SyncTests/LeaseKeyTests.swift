@testable import Sync
import Testing

/// The keys of `run_leases`: a fixed key's bytes are pinned, so the stored format cannot drift,
/// and each key reads back as itself.
@Suite struct LeaseKeyTests {
    @Test func lockAndSlotBytesArePinned() {
        #expect(LeaseKey.lock(tenant: "t1", selectionHash: "ab12").encoded == Array("Lt1".utf8) + [0] + Array("ab12".utf8))
        #expect(LeaseKey.slot(tenant: "t1", runID: "r-9").encoded == Array("St1".utf8) + [0] + Array("r-9".utf8))
        #expect(LeaseKey.lockPrefix == Array("L".utf8) && LeaseKey.slotPrefix == Array("S".utf8))
    }

    @Test func keysRoundTrip() {
        for key in [LeaseKey.lock(tenant: "contoso", selectionHash: String(repeating: "f", count: 64)),
                    .slot(tenant: "fabrikam", runID: "01234567-89ab-cdef-0123-456789abcdef")] {
            #expect(LeaseKey(decoding: key.encoded) == key)
            #expect(key.encoded.starts(with: { if case .lock = key { LeaseKey.lockPrefix } else { LeaseKey.slotPrefix } }()))
        }
        #expect(LeaseKey(decoding: Array("Xt".utf8) + [0]) == nil)
        #expect(LeaseKey(decoding: Array("Lt".utf8)) == nil)
    }
}
