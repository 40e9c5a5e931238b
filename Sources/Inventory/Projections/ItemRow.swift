import Foundation

/// The value of an `items` row (``ItemsProjection``), 56 bytes: first-seen time (8 bytes, BE
/// milliseconds since the epoch) ‖ first-seen position (8, BE) ‖ last-seen position (8, BE) ‖
/// content SHA-256 (32).
///
/// The rest of an item (name, meta, run) is read from the event at the last-seen position, so
/// the table stays small and clustered. The projection's writer updates rows in place through
/// the static functions; queries decode a row with ``init(decoding:)``.
struct ItemRow: Sendable, Hashable {
    /// First seen: milliseconds since the epoch.
    var firstSeenAt: Int64
    /// First seen: the log position of the event.
    var firstSeenPosition: UInt64
    /// Last seen: the log position of the event, whose payload holds the item's fields.
    var lastSeenPosition: UInt64
    /// The 32 bytes of the last-seen `content_sha256`.
    var contentSHA256: [UInt8]

    /// Bytes of a row.
    static let size = 56
    /// Bytes of the first-seen part (time and position): what a rewrite of a row of another
    /// layout keeps.
    static let firstSeenBytes = 16
    private static let firstSeenAtOffset = 0
    private static let firstSeenPositionOffset = 8
    private static let lastSeenPositionOffset = 16
    private static let contentOffset = 24
    /// Bytes of the content hash.
    static let contentBytes = 32

    init(firstSeenAt: Int64, firstSeenPosition: UInt64, lastSeenPosition: UInt64, contentSHA256: [UInt8]) {
        precondition(contentSHA256.count == Self.contentBytes, "a content hash is 32 bytes")
        self.firstSeenAt = firstSeenAt
        self.firstSeenPosition = firstSeenPosition
        self.lastSeenPosition = lastSeenPosition
        self.contentSHA256 = contentSHA256
    }

    /// Reads a stored row; `nil` when `value` is not ``size`` bytes.
    init?(decoding value: UnsafeRawBufferPointer) {
        guard Self.isValid(value) else { return nil }
        self.init(firstSeenAt: Int64(bitPattern: InventoryKeys.readUInt64(value, at: Self.firstSeenAtOffset)),
                  firstSeenPosition: InventoryKeys.readUInt64(value, at: Self.firstSeenPositionOffset),
                  lastSeenPosition: Self.lastSeenPosition(value),
                  contentSHA256: Array(value[Self.contentOffset..<Self.size]))
    }

    /// The row's bytes.
    var encoded: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.size) { out, count in
            let v = UnsafeMutableRawBufferPointer(out)
            contentSHA256.withUnsafeBytes { Self.write(into: v, firstSeenAt: firstSeenAt, position: firstSeenPosition, contentSHA256: $0) }
            InventoryKeys.storeBigEndian(lastSeenPosition, to: v, at: Self.lastSeenPositionOffset)
            count = Self.size
        }
    }

    /// Whether `value` has this layout.
    static func isValid(_ value: UnsafeRawBufferPointer) -> Bool { value.count == size }

    /// The last-seen position of a valid row.
    static func lastSeenPosition(_ value: UnsafeRawBufferPointer) -> UInt64 {
        InventoryKeys.readUInt64(value, at: lastSeenPositionOffset)
    }

    /// Writes the row of an item first seen at `position` (``size`` bytes): seen first and
    /// last there, at `firstSeenAt`.
    static func write(into v: UnsafeMutableRawBufferPointer, firstSeenAt: Int64, position: UInt64, contentSHA256: UnsafeRawBufferPointer) {
        InventoryKeys.storeBigEndian(UInt64(bitPattern: firstSeenAt), to: v, at: firstSeenAtOffset)
        InventoryKeys.storeBigEndian(position, to: v, at: firstSeenPositionOffset)
        observe(in: v, position: position, contentSHA256: contentSHA256)
    }

    /// Whether the content hash of a valid row differs from `contentSHA256`.
    static func contentDiffers(_ value: UnsafeRawBufferPointer, from contentSHA256: UnsafeRawBufferPointer) -> Bool {
        memcmp(value.baseAddress! + contentOffset, contentSHA256.baseAddress!, contentBytes) != 0
    }

    /// Rewrites a valid row in place for an observation at `position`: first seen stays; last
    /// seen and content change.
    static func observe(in v: UnsafeMutableRawBufferPointer, position: UInt64, contentSHA256: UnsafeRawBufferPointer) {
        precondition(contentSHA256.count == contentBytes, "a content hash is 32 bytes")
        InventoryKeys.storeBigEndian(position, to: v, at: lastSeenPositionOffset)
        (v.baseAddress! + contentOffset).copyMemory(from: contentSHA256.baseAddress!, byteCount: contentBytes)
    }

    /// The row that replaces `old`, a value of another layout (or none), for an observation at
    /// `position`: its first-seen bytes are kept when it has them; otherwise first seen is here,
    /// at `firstSeenAt()`.
    static func rewriting(_ old: [UInt8]?, firstSeenAt: () throws -> Int64, position: UInt64,
                          contentSHA256: UnsafeRawBufferPointer) rethrows -> [UInt8] {
        var new = [UInt8](repeating: 0, count: size)
        try new.withUnsafeMutableBytes { v in
            if let old, old.count >= firstSeenBytes {
                old.withUnsafeBytes { v.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: firstSeenBytes) }
                observe(in: v, position: position, contentSHA256: contentSHA256)
            } else {
                write(into: v, firstSeenAt: try firstSeenAt(), position: position, contentSHA256: contentSHA256)
            }
        }
        return new
    }
}
