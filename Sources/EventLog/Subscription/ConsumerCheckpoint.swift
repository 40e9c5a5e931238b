import CanonicalJSON

/// The durable checkpoint of a named consumer, kept in the store's `consumers` database under
/// the consumer's name as canonical JSON:
///
/// ```json
/// {"acknowledged":1234,"chain":"<64 hex>","filter":{"tenant":"contoso"},"updated_at":"2026-01-02T03:04:05.678Z","version":1}
/// ```
///
/// `acknowledged` is the last position the consumer has acknowledged (0: nothing yet); every
/// event at or before it is done. `chain` is the chain hash stored with that event (32 zero
/// bytes for 0), so a consumer in another language can keep verifying the chain from there.
/// `filter` is the ``SubscriptionFilter`` the consumer follows (`{}`: every event); a checkpoint
/// without it (written before filters were recorded) adopts the filter of its next subscription.
package struct ConsumerCheckpoint: Sendable, Hashable {
    /// The consumer's name.
    package var name: String
    /// The last acknowledged position; the consumer resumes after it.
    package var acknowledged: UInt64
    /// The chain hash of the event at `acknowledged`.
    package var chainHash: ChainHash
    /// When the checkpoint was last written.
    package var updatedAt: Timestamp
    /// The filter the consumer follows; `nil` for a checkpoint that has not recorded one.
    package var filter: SubscriptionFilter?

    /// The record format version.
    package static let recordVersion = 1

    /// A checkpoint as stored (see the members).
    package init(name: String, acknowledged: UInt64, chainHash: ChainHash, updatedAt: Timestamp,
                filter: SubscriptionFilter? = nil) {
        self.name = name
        self.acknowledged = acknowledged
        self.chainHash = chainHash
        self.updatedAt = updatedAt
        self.filter = filter
    }

    /// The canonical JSON record stored in the `consumers` database.
    package func record() -> [UInt8] {
        var o: [String: JSONValue] = [
            "acknowledged": .number(Double(acknowledged)),
            "chain": .string(chainHash.hex),
            "updated_at": .string(updatedAt.description),
            "version": .number(Double(Self.recordVersion)),
        ]
        if let filter { o["filter"] = filter.recordValue }
        return (try? CanonicalJSON.serialize(.object(o))) ?? []
    }

    /// Decodes a stored record.
    package init(name: String, record bytes: UnsafeRawBufferPointer) throws(EventLogError) {
        let v: JSONValue
        do { v = try JSONParser().parse(bytes) } catch {
            throw EventLogError(.corruptEvent, "checkpoint of consumer \(name) is not JSON: \(error)")
        }
        guard let ack = v["acknowledged"]?.int64Value, ack >= 0,
              let chainHex = v["chain"]?.stringValue, let chainBytes = Hex.decode(chainHex),
              let chain = ChainHash(bytes: chainBytes),
              let updated = v["updated_at"]?.stringValue.flatMap({ Timestamp(rfc3339: $0) })
        else { throw EventLogError(.corruptEvent, "checkpoint of consumer \(name) is malformed") }
        if let version = v["version"]?.intValue, version > Self.recordVersion {
            throw EventLogError(.newerFormat, "checkpoint of consumer \(name) has record version \(version)")
        }
        var filter: SubscriptionFilter?
        if let f = v["filter"] {
            guard let decoded = SubscriptionFilter(recordValue: f) else {
                throw EventLogError(.corruptEvent, "checkpoint of consumer \(name) has a malformed filter")
            }
            filter = decoded
        }
        self.init(name: name, acknowledged: UInt64(ack), chainHash: chain, updatedAt: updated, filter: filter)
    }
}

/// Consumer names: 1-64 characters of `a-z`, `0-9`, `.`, `_`, `-`.
package enum ConsumerName {
    /// The longest name, in characters.
    package static let maxLength = 64

    /// Whether `name` is a valid consumer name.
    package static func isValid(_ name: String) -> Bool {
        let u = name.utf8
        return !u.isEmpty && u.count <= maxLength
            && u.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 95 || $0 == 45 }
    }

    /// Throws ``EventLogError/Code/invalidAcknowledgement`` unless `name` is valid.
    package static func validate(_ name: String) throws(EventLogError) {
        guard isValid(name) else {
            throw EventLogError(.invalidAcknowledgement,
                "consumer name \"\(name.prefix(80))\" must be 1-\(maxLength) characters of a-z, 0-9, '.', '_', '-'")
        }
    }
}
