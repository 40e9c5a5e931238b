import CanonicalJSON
import EventLog
@testable import Inventory
import Testing

/// The byte layouts the inventory stores: each round-trips, and a fixed value's bytes are
/// pinned here, so a change to a stored format fails a test instead of reaching a store.
@Suite struct StoredLayoutTests {
    static func hex(_ b: some Sequence<UInt8>) -> String { Hex.encode(Array(b)) }

    // MARK: - ItemRow

    static let row = ItemRow(firstSeenAt: 0x0102_0304_0506_0708, firstSeenPosition: 0x1112_1314_1516_1718,
                             lastSeenPosition: 0x2122_2324_2526_2728, contentSHA256: (0..<32).map { 0xA0 + UInt8($0) })

    @Test func itemRowBytesArePinned() {
        #expect(Self.hex(Self.row.encoded) == "0102030405060708" + "1112131415161718" + "2122232425262728"
            + "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf")
        #expect(Self.row.encoded.count == ItemRow.size)
    }

    @Test func itemRowRoundTrips() {
        #expect(Self.row.encoded.withUnsafeBytes(ItemRow.init(decoding:)) == Self.row)
        #expect([UInt8](repeating: 0, count: 55).withUnsafeBytes(ItemRow.init(decoding:)) == nil)
        #expect([UInt8](repeating: 0, count: 57).withUnsafeBytes(ItemRow.init(decoding:)) == nil)
    }

    @Test func itemRowIsObservedInPlace() {
        var bytes = Self.row.encoded
        let sha = [UInt8](repeating: 0x5C, count: 32)
        #expect(bytes.withUnsafeBytes { b in sha.withUnsafeBytes { ItemRow.contentDiffers(b, from: $0) } })
        bytes.withUnsafeMutableBytes { v in sha.withUnsafeBytes { ItemRow.observe(in: v, position: 99, contentSHA256: $0) } }
        let seen = ItemRow(firstSeenAt: Self.row.firstSeenAt, firstSeenPosition: Self.row.firstSeenPosition, lastSeenPosition: 99,
                           contentSHA256: sha)
        #expect(bytes == seen.encoded)
        #expect(!bytes.withUnsafeBytes { b in sha.withUnsafeBytes { ItemRow.contentDiffers(b, from: $0) } })
        // The first row of an item: first and last seen the same.
        var first = [UInt8](repeating: 0xFF, count: ItemRow.size)
        first.withUnsafeMutableBytes { v in sha.withUnsafeBytes { ItemRow.write(into: v, firstSeenAt: 5, position: 7, contentSHA256: $0) } }
        #expect(first == ItemRow(firstSeenAt: 5, firstSeenPosition: 7, lastSeenPosition: 7, contentSHA256: sha).encoded)
    }

    @Test func aRowOfAnotherLayoutIsRewrittenKeepingItsFirstSeenBytes() {
        let sha = [UInt8](repeating: 0x5C, count: 32)
        let old = Array(Self.row.encoded[0..<20])
        let kept = sha.withUnsafeBytes { ItemRow.rewriting(old, firstSeenAt: { 1 }, position: 9, contentSHA256: $0) }
        #expect(kept == ItemRow(firstSeenAt: Self.row.firstSeenAt, firstSeenPosition: Self.row.firstSeenPosition, lastSeenPosition: 9,
                                contentSHA256: sha).encoded)
        let fresh = sha.withUnsafeBytes { ItemRow.rewriting([1, 2], firstSeenAt: { 3 }, position: 9, contentSHA256: $0) }
        #expect(fresh == ItemRow(firstSeenAt: 3, firstSeenPosition: 9, lastSeenPosition: 9, contentSHA256: sha).encoded)
    }

    // MARK: - ObservationRow

    static func run(_ byte: UInt8) -> [UInt8] { [UInt8](repeating: byte, count: ObservationRow.runBytes) }

    @Test func observationRowBytesArePinned() {
        var row = [UInt8](repeating: 0xFF, count: ObservationRow.firstSize)
        row.withUnsafeMutableBytes { v in Self.run(0x11).withUnsafeBytes { ObservationRow.writeFirst(into: v, entry: 0x0102, runID: $0) } }
        #expect(Self.hex(row) == "0000000000000102" + String(repeating: "11", count: 16))
        for r in [0x22, 0x33, 0x44] as [UInt8] { Self.run(r).withUnsafeBytes { ObservationRow.observe(&row, runID: $0) } }
        // At most `depth` runs, newest first; the entry stays.
        #expect(Self.hex(row) == "0000000000000102" + String(repeating: "44", count: 16) + String(repeating: "33", count: 16)
            + String(repeating: "22", count: 16))
        // A run seen again moves to the front, without a duplicate.
        Self.run(0x33).withUnsafeBytes { ObservationRow.observe(&row, runID: $0) }
        row.withUnsafeBytes { v in
            #expect(ObservationRow.isValid(v))
            #expect(ObservationRow.entry(v) == 0x0102)
            #expect(ObservationRow.runs(v) == [Self.run(0x33), Self.run(0x44), Self.run(0x22)])
        }
        #expect([UInt8](repeating: 0, count: 8 + 15).withUnsafeBytes(ObservationRow.isValid) == false)
        #expect([UInt8](repeating: 0, count: 8 + 64).withUnsafeBytes(ObservationRow.isValid) == false)
    }

    // MARK: - LastRunsKey

    @Test func lastRunsKeyBytesArePinned() {
        let hash = [UInt8](repeating: 0xAB, count: LastRunsKey.hashBytes)
        let key = LastRunsKey.key("t", hash[...], newest: Self.run(0x01), previous: nil as [UInt8]?, entry: 0x0102)
        #expect(Self.hex(key) == "7400" + String(repeating: "ab", count: 32) + String(repeating: "01", count: 16)
            + String(repeating: "00", count: 16) + "0000000000000102")
        let prefix = LastRunsKey.selectionPrefix("t", hash).count
        key.withUnsafeBytes { k in
            #expect(LastRunsKey.isValid(k, prefix: prefix))
            #expect(LastRunsKey.newest(k, prefix: prefix) == Self.run(0x01))
            #expect(LastRunsKey.previous(k, prefix: prefix) == LastRunsKey.noRun)
        }
        let both = LastRunsKey.key("t", hash[...], newest: Self.run(0x02), previous: Self.run(0x01), entry: 3)
        both.withUnsafeBytes { #expect(LastRunsKey.previous($0, prefix: prefix) == Self.run(0x01)) }
    }

    // MARK: - ItemObservedLayout

    static let observed = ItemObserved(
        runID: "01234567-89ab-cdef-0123-456789abcdef", selectionHash: String(repeating: "5e", count: 32),
        policyType: "deviceConfiguration", externalID: "id-1", displayName: "Name", category: "configuration",
        platform: "windows", meta: ["version": .number(2)], contentSHA256: String(repeating: "c0", count: 32), droppedMetaKeys: 3)

    @Test func itemObservedBytesArePinned() throws {
        var data: [UInt8] = []
        try Self.observed.writeData(into: &data)
        #expect(String(decoding: data, as: UTF8.self) == #"{"category":"configuration","content_sha256":""# + String(repeating: "c0", count: 32)
            + #"","display_name":"Name","dropped_meta_keys":3,"external_id":"id-1","meta":{"version":2},"platform":"windows","#
            + #""policy_type":"deviceConfiguration","run_id":"01234567-89ab-cdef-0123-456789abcdef","selection_hash":""#
            + String(repeating: "5e", count: 32) + #""}"#)
        // The same bytes as the general canonical form of the payload.
        #expect(data == (try CanonicalJSON.serialize(Self.observed.data)))
    }

    @Test func itemObservedIsReadFromItsLayoutAsByScanning() throws {
        var data: [UInt8] = []
        try Self.observed.writeData(into: &data)
        try data.withUnsafeBytes { b in
            let fromLayout = try #require(ItemObserved.IndexFields(canonicalLayout: b))
            #expect(fromLayout == ItemObserved.IndexFields(scanning: b))
            #expect(fromLayout == ItemObserved.IndexFields(Self.observed))
            #expect(Self.hex(fromLayout.contentSHA256 ?? []) == Self.observed.contentSHA256)
            #expect(Self.hex(fromLayout.selectionHash ?? []) == Self.observed.selectionHash)
            #expect(Self.hex(fromLayout.runID ?? []) == "0123456789abcdef0123456789abcdef")
            #expect(Array(fromLayout.typeAndID) == Array("deviceConfiguration".utf8) + [0] + Array("id-1".utf8))
        }
        // Another member order is not the layout: the reader hands it to the scanner.
        let reordered = Array(#"{"run_id":"01234567-89ab-cdef-0123-456789abcdef","#.utf8) + data.dropFirst()
        reordered.withUnsafeBytes { #expect(ItemObserved.IndexFields(canonicalLayout: $0) == nil) }
    }
}
