/// An `events` value as stored: the 32-byte chain hash, then the canonical envelope JSON.
///
/// The one owner of that layout: the writer sizes and fills a value with ``size(jsonBytes:)``
/// and ``write(into:chain:json:)``, and every reader splits one with ``init(_:)``.
struct StoredEvent {
    let chain: UnsafeRawBufferPointer
    let json: UnsafeRawBufferPointer

    /// Bytes of the chain hash at the front of a value.
    static let chainBytes = 32

    /// The parts of `value`; `nil` when it is shorter than a chain hash (corrupt).
    init?(_ value: UnsafeRawBufferPointer) {
        guard value.count >= Self.chainBytes else { return nil }
        chain = UnsafeRawBufferPointer(rebasing: value[0..<Self.chainBytes])
        json = UnsafeRawBufferPointer(rebasing: value[Self.chainBytes...])
    }

    /// The parts of the value stored at `position`; a value shorter than a chain hash is corrupt.
    init(_ value: UnsafeRawBufferPointer, at position: UInt64) throws(EventLogError) {
        guard let stored = Self(value) else {
            throw EventLogError(.corruptEvent, "event at position \(position) is shorter than its chain hash")
        }
        self = stored
    }

    var chainHash: ChainHash { ChainHash(unchecked: chain) }

    /// Bytes of the value of an event whose envelope JSON is `jsonBytes` long.
    static func size(jsonBytes: Int) -> Int { chainBytes + jsonBytes }

    /// Writes a value into `out`, ``size(jsonBytes:)`` bytes.
    static func write(into out: UnsafeMutableRawBufferPointer, chain: UnsafeRawBufferPointer, json: UnsafeRawBufferPointer) {
        precondition(chain.count == chainBytes && out.count == size(jsonBytes: json.count), "stored event size miscounted")
        out.baseAddress!.copyMemory(from: chain.baseAddress!, byteCount: chainBytes)
        if json.count > 0 { (out.baseAddress! + chainBytes).copyMemory(from: json.baseAddress!, byteCount: json.count) }
    }
}

extension RawEvent {
    /// The event stored at `position`, its JSON copied.
    init(position: UInt64, stored: StoredEvent) {
        self.init(position: position, chainHash: stored.chainHash, json: Array(stored.json))
    }
}
