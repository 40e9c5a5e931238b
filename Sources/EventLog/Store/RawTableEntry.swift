/// One entry of a ``LogTable`` exactly as stored, whatever its bytes: a verifier reads these
/// to name damage (a key of the wrong length, a value too short) instead of failing on it.
/// The accessors give the entry's meaning when its bytes have the documented layout
/// (docs/event-stream-format.md) and `nil` when they do not.
package struct RawTableEntry: Sendable, Hashable {
    package var key: [UInt8]
    package var value: [UInt8]

    package init(key: [UInt8], value: [UInt8]) {
        self.key = key
        self.value = value
    }

    /// An 8-byte big-endian number, or `nil` for another length.
    static func position(_ bytes: ArraySlice<UInt8>) -> UInt64? {
        guard bytes.count == 8 else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// An `events` key: the position.
    package var eventPosition: UInt64? { Self.position(key[...]) }

    /// An `events` value split into its stored chain hash and envelope JSON; `nil` when it is
    /// shorter than a chain hash.
    package var storedEvent: (chainHash: ChainHash, json: [UInt8])? {
        value.withUnsafeBytes { v in StoredEvent(v).map { ($0.chainHash, Array($0.json)) } }
    }

    /// A `tenant_events` key: the tenant and the position; `nil` unless it is valid UTF-8,
    /// one NUL, then 8 bytes.
    package var tenantIndexKey: (tenant: String, position: UInt64)? {
        guard let (name, p) = TenantEventKey.decode(key), !name.contains(0),
              let tenant = String(validating: name, as: UTF8.self) else { return nil }
        return (tenant, p)
    }

    /// An `event_ids` entry: the id and the position it names; `nil` unless the key is 16
    /// bytes and the value 8.
    package var eventIDIndex: (id: EventID, position: UInt64)? {
        guard let id = EventID(bytes: key), let p = Self.position(value[...]) else { return nil }
        return (id, p)
    }
}
