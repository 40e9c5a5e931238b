package import CanonicalJSON

/// An event as stored: identity, type, tenant, time and payload.
///
/// On disk an envelope is the RFC 8785 canonical JSON object
/// `{"correlation_id", "data", "id", "recorded_at", "schema", "tenant", "type"}`
/// (`correlation_id` absent when `nil`). See docs/event-stream-format.md.
package struct EventEnvelope: Sendable, Hashable {
    /// Unique id; appends are idempotent by id.
    package var id: EventID
    /// The event type, for example `inventory.item_observed`.
    package var type: String
    /// The version of this type's payload schema.
    package var schema: Int
    /// The tenant the event belongs to.
    package var tenant: String
    /// When the event was recorded.
    package var recordedAt: Timestamp
    /// Ties the events of one operation (a sync run) together.
    package var correlationID: String?
    /// The payload: a JSON object.
    package var data: JSONValue

    package init(
        id: EventID = .generate(), type: String, schema: Int = 1, tenant: String,
        recordedAt: Timestamp = .now(), correlationID: String? = nil, data: JSONValue
    ) {
        self.id = id
        self.type = type
        self.schema = schema
        self.tenant = tenant
        self.recordedAt = recordedAt
        self.correlationID = correlationID
        self.data = data
    }
}

/// An event read back from the log with its position and chain hash.
package struct RecordedEvent: Sendable, Hashable {
    /// Gapless position, starting at 1.
    package var position: UInt64
    /// The chain hash after this event.
    package var chainHash: ChainHash
    /// The envelope.
    package var envelope: EventEnvelope
}

/// An event's stored bytes, undecoded: for verification, export and subscribers.
package struct RawEvent: Sendable, Hashable {
    /// Gapless position, starting at 1.
    package var position: UInt64
    /// The chain hash stored with the event.
    package var chainHash: ChainHash
    /// The canonical envelope JSON as stored.
    package var json: [UInt8]

    package init(position: UInt64, chainHash: ChainHash, json: [UInt8]) {
        self.position = position
        self.chainHash = chainHash
        self.json = json
    }

    /// Decodes the envelope.
    package func decode() throws(EventLogError) -> RecordedEvent {
        RecordedEvent(position: position, chainHash: chainHash, envelope: try EventEnvelope(canonicalJSON: json, position: position))
    }
}
