import EventLog

/// Key layouts of the inventory projection tables (documented in docs/inventory-events.md).
///
/// Every key starts with the tenant's UTF-8 bytes and a 0x00 byte, so a tenant's rows are one
/// prefix and no query can reach another tenant's rows.
enum InventoryKeys {
    static func tenantPrefix(_ tenant: String) -> [UInt8] {
        var k = Array(tenant.utf8)
        k.append(0)
        return k
    }

    /// `items`: tenant ‖ 0 ‖ policy type ‖ 0 ‖ external id.
    static func item(_ tenant: String, _ type: String, _ externalID: String) -> [UInt8] {
        item(tenant, typeAndID: typeAndID(type, externalID)[...])
    }

    /// policy type ‖ 0 ‖ external id: how `items` and `observations` keys end.
    static func typeAndID(_ type: String, _ externalID: String) -> [UInt8] {
        Array(type.utf8) + [0] + Array(externalID.utf8)
    }

    /// `items` key from the tail policy type ‖ 0 ‖ external id.
    static func item(_ tenant: String, typeAndID: ArraySlice<UInt8>) -> [UInt8] {
        var k = [UInt8]()
        k.reserveCapacity(tenant.utf8.count + 1 + typeAndID.count)
        k += tenant.utf8
        k.append(0)
        k += typeAndID
        return k
    }

    /// Calls `body` with the `items` key tenant ‖ 0 ‖ `typeAndID`, built on the stack.
    static func withItemKey<R>(_ tenant: String, typeAndID: ArraySlice<UInt8>, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withKey(tenant, nil, typeAndID, body)
    }

    /// Calls `body` with the `observations` key tenant ‖ 0 ‖ `selectionHash` ‖ `typeAndID`,
    /// built on the stack.
    static func withObservationKey<R>(
        _ tenant: String, _ selectionHash: ArraySlice<UInt8>, typeAndID: ArraySlice<UInt8>, _ body: (UnsafeRawBufferPointer) throws -> R
    ) rethrows -> R {
        try selectionHash.withUnsafeBytes { try withKey(tenant, $0, typeAndID, body) }
    }

    /// tenant ‖ 0 ‖ `middle` ‖ `tail` in a stack buffer: the keys a projection builds for
    /// every event, without an array each.
    private static func withKey<R>(
        _ tenant: String, _ middle: UnsafeRawBufferPointer?, _ tail: ArraySlice<UInt8>, _ body: (UnsafeRawBufferPointer) throws -> R
    ) rethrows -> R {
        var tenant = tenant
        return try tenant.withUTF8 { t in
            try tail.withUnsafeBytes { tail in
                let m = middle?.count ?? 0
                return try withUnsafeTemporaryAllocation(byteCount: t.count + 1 + m + tail.count, alignment: 1) { key in
                    var i = 0
                    func copy(_ bytes: UnsafeRawBufferPointer) {
                        guard let from = bytes.baseAddress, !bytes.isEmpty else { return }
                        (key.baseAddress! + i).copyMemory(from: from, byteCount: bytes.count)
                        i += bytes.count
                    }
                    copy(UnsafeRawBufferPointer(t))
                    key[i] = 0
                    i += 1
                    if let middle { copy(middle) }
                    copy(tail)
                    return try body(UnsafeRawBufferPointer(key))
                }
            }
        }
    }

    static func itemTypePrefix(_ tenant: String, _ type: String) -> [UInt8] {
        var k = tenantPrefix(tenant)
        k += type.utf8
        k.append(0)
        return k
    }

    /// `runs`: tenant ‖ 0 ‖ 16-byte run id.
    static func run(_ tenant: String, _ runID: [UInt8]) -> [UInt8] { tenantPrefix(tenant) + runID }

    /// `completed`: tenant ‖ 0 ‖ 32-byte selection hash ‖ 8-byte BE finish position.
    static func completedPrefix(_ tenant: String, _ selectionHash: [UInt8]) -> [UInt8] { tenantPrefix(tenant) + selectionHash }

    static func completed(_ tenant: String, _ selectionHash: [UInt8], _ position: UInt64) -> [UInt8] {
        completedPrefix(tenant, selectionHash) + bigEndian(position)
    }

    /// `observations`: tenant ‖ 0 ‖ 32-byte selection hash ‖ policy type ‖ 0 ‖ external id.
    static func observation(_ tenant: String, _ selectionHash: [UInt8], _ type: String, _ externalID: String) -> [UInt8] {
        observation(tenant, selectionHash[...], typeAndID: typeAndID(type, externalID)[...])
    }

    /// `observations` key from the tail policy type ‖ 0 ‖ external id.
    static func observation(_ tenant: String, _ selectionHash: ArraySlice<UInt8>, typeAndID: ArraySlice<UInt8>) -> [UInt8] {
        var k = [UInt8]()
        k.reserveCapacity(tenant.utf8.count + 1 + selectionHash.count + typeAndID.count)
        k += tenant.utf8
        k.append(0)
        k += selectionHash
        k += typeAndID
        return k
    }

    static func observationTypePrefix(_ tenant: String, _ selectionHash: [UInt8], _ type: String) -> [UInt8] {
        var k = tenantPrefix(tenant) + selectionHash
        k += type.utf8
        k.append(0)
        return k
    }

    static func bigEndian(_ v: UInt64) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(8)
        appendBigEndian(v, to: &out)
        return out
    }

    static func appendBigEndian(_ v: UInt64, to out: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    /// Writes `v` big-endian into `out[offset..<offset+8]`.
    static func storeBigEndian(_ v: UInt64, to out: UnsafeMutableRawBufferPointer, at offset: Int) {
        out.storeBytes(of: v.bigEndian, toByteOffset: offset, as: UInt64.self)
    }

    static func readUInt64(_ b: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<8 { v = v << 8 | UInt64(b[offset + i]) }
        return v
    }

    static func runIDBytes(_ runID: String) throws(InventoryPayloadError) -> [UInt8] {
        guard let id = EventID(runID) else { throw InventoryPayloadError("run id \"\(runID.prefix(64))\" is not a UUID") }
        return id.bytes
    }

    static func hashBytes(_ hex: String) throws(InventoryPayloadError) -> [UInt8] {
        guard hex.utf8.count == 64, let b = Hex.decode(hex) else { throw InventoryPayloadError("selection hash \"\(hex.prefix(80))\" is not 64 hex digits") }
        return b
    }
}
