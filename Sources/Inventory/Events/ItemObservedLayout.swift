import Foundation

/// The canonical bytes of an `item_observed` payload: its members in RFC 8785 order, each
/// opened by the marker below.
///
/// `{"category":"…","content_sha256":"<64 hex>","display_name":…,"dropped_meta_keys":N,`
/// `"external_id":"…","meta":{…},"platform":…,"policy_type":"…","run_id":"<UUID>",`
/// `"selection_hash":"<64 hex>"}`
///
/// ``ItemObserved/writeData(into:)`` (the general path) and ``ObservationEncoder`` (the sync
/// hot path) write it; ``ItemObserved/IndexFields`` reads its fixed-size members from the front
/// and the back without scanning `meta`. Every marker and fixed size those three use is here,
/// so the layout they agree on is stated once.
enum ItemObservedLayout {
    /// Opens the payload and its first member.
    static let category: StaticString = #"{"category":"#
    static let contentSHA256: StaticString = #","content_sha256":"#
    static let displayName: StaticString = #","display_name":"#
    static let droppedMetaKeys: StaticString = #","dropped_meta_keys":"#
    static let externalID: StaticString = #","external_id":"#
    static let meta: StaticString = #","meta":"#
    static let platform: StaticString = #","platform":"#
    static let policyType: StaticString = #","policy_type":"#
    static let runID: StaticString = #","run_id":"#
    static let selectionHash: StaticString = #","selection_hash":"#
    /// Closes the payload.
    static let close = UInt8(ascii: "}")
    static let quote = UInt8(ascii: "\"")

    /// Bytes of a SHA-256 value as written: 64 hex digits in quotes (`content_sha256`,
    /// `selection_hash`).
    static let hashValueBytes = 66
    /// Bytes of a run id as written: a 36-character UUID in quotes.
    static let runIDValueBytes = 38
    /// Bytes from the opening quote of `selection_hash`'s value to the end of the payload.
    static let selectionHashTailBytes = hashValueBytes + 1

    /// Appends `marker` to `out`.
    static func append(_ marker: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeRawBufferPointer(start: marker.utf8Start, count: marker.utf8CodeUnitCount))
    }
}
