import LMDB

/// A `tenant_events` key: tenant UTF-8 ‖ 0x00 ‖ position (8 bytes, big-endian); the value is
/// empty. The one owner of that layout: the writer builds keys with ``prefix(_:)`` and
/// ``setPosition(_:in:)``, readers split them with ``position(_:prefixBytes:)`` and
/// ``decode(_:)``.
enum TenantEventKey {
    /// Bytes of the position at the end of a key.
    static let positionBytes = 8

    /// tenant ‖ 0x00: every key of the tenant starts with it.
    static func prefix(_ tenant: String) -> [UInt8] {
        var k = Array(tenant.utf8)
        k.append(0)
        return k
    }

    /// The key of the tenant's event at `position`.
    static func key(_ tenant: String, position: UInt64) -> [UInt8] { prefix(tenant) + UInt64BE.bytes(position) }

    /// Ends `key` — a ``prefix(_:)`` and a position, or the prefix alone — with `position`
    /// (8 big-endian bytes), in place when it already has one.
    static func setPosition(_ position: UnsafeRawBufferPointer, in key: inout [UInt8], prefixBytes: Int) {
        precondition(position.count == positionBytes && (key.count == prefixBytes || key.count == prefixBytes + positionBytes))
        if key.count == prefixBytes {
            key += position
        } else {
            key.withUnsafeMutableBytes { k in (k.baseAddress! + prefixBytes).copyMemory(from: position.baseAddress!, byteCount: positionBytes) }
        }
    }

    /// The position of `key` under a prefix of `prefixBytes` bytes; `nil` when the key's
    /// length is not the prefix's and a position's.
    static func position(_ key: UnsafeRawBufferPointer, prefixBytes: Int) -> UInt64? {
        guard key.count == prefixBytes + positionBytes else { return nil }
        return UInt64(bigEndian: key.loadUnaligned(fromByteOffset: prefixBytes, as: UInt64.self))
    }

    /// The tenant bytes and position of `key`; `nil` unless it has a 0x00 before its last 8 bytes.
    static func decode(_ key: [UInt8]) -> (tenant: ArraySlice<UInt8>, position: UInt64)? {
        let prefixBytes = key.count - positionBytes
        guard prefixBytes >= 1, key[prefixBytes - 1] == 0 else { return nil }
        let position = key.withUnsafeBytes { k in UInt64(bigEndian: k.loadUnaligned(fromByteOffset: prefixBytes, as: UInt64.self)) }
        return (key[..<(prefixBytes - 1)], position)
    }
}
