import CanonicalJSON

/// An event serialized for appending: its canonical envelope bytes and the header fields the
/// store indexes.
///
/// Make one from an ``EventEnvelope``, or — on hot paths — write the payload's canonical bytes
/// directly with ``init(id:type:schema:tenant:recordedAt:correlationID:writingData:)`` and skip
/// building a `JSONValue` tree. Either way the bytes are the envelope's RFC 8785 form.
// Sendable: the storage is never changed once the event is made, and holds only Sendable values
// (a `ManagedBuffer` cannot be declared Sendable itself).
package struct EncodedEvent: @unchecked Sendable {
    /// The header fields of an event; its JSON follows them in the same allocation.
    struct Header {
        let id: EventID
        let type: String
        let tenant: String
        let recordedAt: Timestamp
        /// The JSON's length (the allocation may hold more bytes).
        let count: Int
        let dataRange: Range<Int>
        let envelope: EventEnvelope?
        let hint: (key: ObjectIdentifier, box: AnyObject & Sendable)?
        var digest: EventDigest?
    }

    /// The fields and the JSON bytes, in one immutable allocation: events are handed along in
    /// arrays from producers to the writer, and one object (one allocation, one reference count
    /// for the writer to touch) is cheaper than several.
    final class Storage: ManagedBuffer<Header, UInt8> {}

    private let storage: Storage

    /// An event of `header` whose `header.count` bytes of JSON `write` writes; digested (see
    /// ``digest``) when `digesting`.
    init(_ header: Header, digesting: Bool = false, writingJSON write: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        let buffer = Storage.create(minimumCapacity: header.count) { _ in header }
        storage = unsafeDowncast(buffer, to: Storage.self)
        try storage.withUnsafeMutablePointerToElements { p in
            let json = UnsafeMutableRawBufferPointer(start: p, count: header.count)
            try write(json)
            // Before the event is shared: the header is immutable from then on.
            if digesting { storage.header.digest = EventDigest(json: UnsafeRawBufferPointer(json)) }
        }
    }

    private var header: Header { storage.header }

    package var id: EventID { header.id }
    package var type: String { header.type }
    package var tenant: String { header.tenant }
    package var recordedAt: Timestamp { header.recordedAt }
    /// The canonical envelope JSON (a copy; see ``withJSON(_:)``).
    package var json: [UInt8] { withJSON { Array($0) } }
    /// The length of ``json``.
    package var jsonCount: Int { header.count }
    /// Calls `body` with the canonical envelope JSON, without copying it.
    package func withJSON<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeMutablePointerToElements { try body(UnsafeRawBufferPointer(start: $0, count: storage.header.count)) }
    }
    /// Where the `data` object lies in ``json``.
    package var dataRange: Range<Int> { header.dataRange }
    /// The envelope, when the event was made from one (projections then need not decode it).
    var envelope: EventEnvelope? { header.envelope }
    /// A value the producer already knows that projections would otherwise read from the
    /// payload; see ``withProjectionHint(_:)``.
    var hint: (key: ObjectIdentifier, box: AnyObject & Sendable)? { header.hint }
    /// The SHA-256 of ``json``, when the code that made the event computed it (off the log's
    /// writer, which chains it in a format-2 store).
    var digest: EventDigest? { header.digest }

    /// This event with `value` handed to projections: ``ProjectionEvent/memoized(_:)`` asked
    /// for a `T` returns it instead of reading the payload. It must equal what the projection
    /// would read from the payload (rebuilds from the log read the payload), so only the code
    /// that wrote the payload should give one.
    package func withProjectionHint<T: Sendable>(_ value: T) -> EncodedEvent {
        let h = header
        let hint = ProjectionHint(value)
        return withJSON { json in
            EncodedEvent(Header(id: h.id, type: h.type, tenant: h.tenant, recordedAt: h.recordedAt, count: h.count, dataRange: h.dataRange,
                                envelope: h.envelope, hint: (hint.key, hint.box), digest: h.digest)) { $0.copyMemory(from: json) }
        }
    }

    /// The hint of type `T` this event carries, if any (see ``withProjectionHint(_:)``).
    package func projectionHint<T>(as type: T.Type) -> T? {
        guard let hint, hint.key == ObjectIdentifier(T.self) else { return nil }
        return unsafeDowncast(hint.box, to: ProjectionEvent.Box<T>.self).value
    }

    /// Serializes `envelope`.
    package init(_ envelope: EventEnvelope) throws(EventLogError) {
        try envelope.validate()
        var out = [UInt8]()
        out.reserveCapacity(512)
        let range = try Self.write(id: envelope.id, type: envelope.type, schema: envelope.schema, tenant: envelope.tenant,
                                   recordedAt: envelope.recordedAt, correlationID: envelope.correlationID, into: &out) { (out) throws(EventLogError) in
            do { try CanonicalJSON.write(envelope.data, into: &out) } catch {
                throw EventLogError(.invalidEvent, "payload cannot be written as canonical JSON: \(error)")
            }
        }
        self.init(id: envelope.id, type: envelope.type, tenant: envelope.tenant, recordedAt: envelope.recordedAt,
                  json: out, dataRange: range, envelope: envelope)
    }

    /// An event whose payload `writeData` appends as canonical JSON (an object).
    ///
    /// `writeData` must write exactly one RFC 8785 object (an error it throws is reported as
    /// `invalid_event`); the log stores and hashes the
    /// bytes as given (``EventEnvelope/init(canonicalJSON:position:)`` and `atlas-replay
    /// verify` check them later). The header fields are validated as for ``EventEnvelope``.
    package init(
        id: EventID = .generate(), type: String, schema: Int = 1, tenant: String, recordedAt: Timestamp = .now(),
        correlationID: String? = nil, writingData writeData: (inout [UInt8]) throws -> Void
    ) throws(EventLogError) {
        try EventEnvelope.validateHeader(type: type, schema: schema, tenant: tenant, correlationID: correlationID)
        var out = [UInt8]()
        out.reserveCapacity(1024)
        let range = try Self.write(id: id, type: type, schema: schema, tenant: tenant, recordedAt: recordedAt,
                                   correlationID: correlationID, into: &out) { (out) throws(EventLogError) in
            do { try writeData(&out) } catch let e as EventLogError { throw e } catch {
                throw EventLogError(.invalidEvent, "payload cannot be written: \(error)")
            }
        }
        guard range.count >= 2, out[range.lowerBound] == UInt8(ascii: "{"), out[range.upperBound - 1] == UInt8(ascii: "}") else {
            throw EventLogError(.invalidEvent, "data must be a JSON object")
        }
        self.init(id: id, type: type, tenant: tenant, recordedAt: recordedAt, json: out, dataRange: range, envelope: nil)
    }

    /// An event as stored in a log (its canonical envelope bytes), to append elsewhere as is:
    /// replays into scratch stores copy events this way, without decoding their payloads.
    ///
    /// - Throws: `corrupt_event` when the bytes are not a canonical envelope's header.
    package init(stored json: [UInt8]) throws(EventLogError) {
        let read = json.withUnsafeBytes { b -> (EnvelopeHeader, EventID, Timestamp)? in
            guard let h = EnvelopeHeader.read(b), let id = h.id(in: b), let at = h.recordedAt(in: b) else { return nil }
            return (h, id, at)
        }
        guard let (h, id, at) = read else {
            self = try Self.decoding(stored: json, position: nil)
            return
        }
        self.init(id: id, type: h.type, tenant: h.tenant, recordedAt: at, json: json, dataRange: h.dataRange, envelope: nil)
    }

    /// Stored bytes the header reader could not read, decoded: decoding names what is wrong, and
    /// bytes that decode but are not the canonical form are reported as such.
    static func decoding(stored json: [UInt8], position: UInt64?) throws(EventLogError) -> EncodedEvent {
        let envelope = try EventEnvelope(canonicalJSON: json, position: position)
        let encoded = try EncodedEvent(envelope)
        guard encoded.json == json else {
            throw EventLogError(.corruptEvent, "event \(position.map { "at position \($0)" } ?? envelope.id.description) is not in canonical form")
        }
        return encoded
    }

    init(id: EventID, type: String, tenant: String, recordedAt: Timestamp, json: [UInt8], dataRange: Range<Int>,
         envelope: EventEnvelope?) {
        self.init(Header(id: id, type: type, tenant: tenant, recordedAt: recordedAt, count: json.count, dataRange: dataRange,
                         envelope: envelope, hint: nil, digest: nil)) { out in json.withUnsafeBytes { out.copyMemory(from: $0) } }
    }

    /// What the envelope writes between the payload and the id, and between the id and the
    /// time (``EventTemplate`` writes the same).
    static let idOpen: StaticString = #","id":""#
    static let timeOpen: StaticString = #"","recorded_at":""#

    /// Writes a canonical envelope; returns the range of the payload written by `data`.
    static func write(
        id: EventID, type: String, schema: Int, tenant: String, recordedAt: Timestamp, correlationID: String?,
        into out: inout [UInt8], data: (inout [UInt8]) throws(EventLogError) -> Void
    ) throws(EventLogError) -> Range<Int> {
        // Keys in RFC 8785 order: correlation_id, data, id, recorded_at, schema, tenant, type.
        out += #"{"#.utf8
        if let c = correlationID {
            out += #""correlation_id":"#.utf8
            CanonicalJSON.writeString(c, into: &out)
            out.append(UInt8(ascii: ","))
        }
        out += #""data":"#.utf8
        let start = out.count
        try data(&out)
        let end = out.count
        out += UnsafeRawBufferPointer(Self.idOpen)
        id.write(into: &out)
        out += UnsafeRawBufferPointer(Self.timeOpen)
        recordedAt.write(into: &out)
        out += #"","schema":"#.utf8
        if schema == 1 { out.append(UInt8(ascii: "1")) } else { out += String(schema).utf8 }
        out += #","tenant":"#.utf8
        CanonicalJSON.writeString(tenant, into: &out)
        out += #","type":"#.utf8
        CanonicalJSON.writeString(type, into: &out)
        out.append(UInt8(ascii: "}"))
        guard out.count <= EventEnvelope.Limits.envelopeBytes else {
            throw EventLogError(.invalidEvent, "envelope is \(out.count) bytes; the limit is \(EventEnvelope.Limits.envelopeBytes)")
        }
        return start..<end
    }
}

/// A value handed from the code that writes an event's payload to the projections that would
/// otherwise read it back (see ``EncodedEvent/withProjectionHint(_:)``).
package struct ProjectionHint: Sendable {
    @usableFromInline let key: ObjectIdentifier
    @usableFromInline let box: AnyObject & Sendable

    /// Inlinable, so that the box's type is known where the hint is made (a generic call would
    /// look its metadata up at run time for every event).
    @inlinable
    package init<T: Sendable>(_ value: T) {
        key = ObjectIdentifier(T.self)
        box = ProjectionEvent.Box(value)
    }
}
