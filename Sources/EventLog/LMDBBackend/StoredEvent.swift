/// An `events` value as stored: the 32-byte chain hash, then the canonical envelope JSON.
struct StoredEvent {
    let chain: UnsafeRawBufferPointer
    let json: UnsafeRawBufferPointer

    /// The parts of the value stored at `position`; a value shorter than a chain hash is corrupt.
    init(_ value: UnsafeRawBufferPointer, at position: UInt64) throws(EventLogError) {
        guard value.count >= 32 else {
            throw EventLogError(.corruptEvent, "event at position \(position) is shorter than its chain hash")
        }
        chain = UnsafeRawBufferPointer(rebasing: value[0..<32])
        json = UnsafeRawBufferPointer(rebasing: value[32...])
    }

    var chainHash: ChainHash { ChainHash(unchecked: chain) }
}

extension RawEvent {
    /// The event stored at `position`, its JSON copied.
    init(position: UInt64, stored: StoredEvent) {
        self.init(position: position, chainHash: stored.chainHash, json: Array(stored.json))
    }
}
