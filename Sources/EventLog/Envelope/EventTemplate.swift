import CanonicalJSON

/// The header fields many events share (type, schema, tenant, correlation id), validated and
/// written once: a producer that makes thousands of events of one kind for one tenant (a sync
/// run's observations) then writes per event only its id, its time and its payload.
///
/// An event made here is byte for byte the one
/// ``EncodedEvent/init(id:type:schema:tenant:recordedAt:correlationID:writingData:)`` makes.
package struct EventTemplate: Sendable {
    package let type: String
    package let schema: Int
    package let tenant: String
    package let correlationID: String?
    /// `{"correlation_id":"…","data":` (or `{"data":`).
    private let prefix: [UInt8]
    /// `","schema":1,"tenant":"…","type":"…"}`, after the recorded-at time's digits.
    private let suffix: [UInt8]

    /// - Throws: `invalid_event` when a field is invalid (as ``EventEnvelope`` checks them).
    package init(type: String, schema: Int = 1, tenant: String, correlationID: String? = nil) throws(EventLogError) {
        try EventEnvelope.validateHeader(type: type, schema: schema, tenant: tenant, correlationID: correlationID)
        self.type = type
        self.schema = schema
        self.tenant = tenant
        self.correlationID = correlationID
        var out: [UInt8] = []
        // Everything `EncodedEvent.write` writes around the payload, id and time.
        let data = try EncodedEvent.write(id: Self.marker, type: type, schema: schema, tenant: tenant,
                                          recordedAt: Timestamp(millisecondsSinceEpoch: 0), correlationID: correlationID,
                                          into: &out) { (o: inout [UInt8]) throws(EventLogError) in o += "{}".utf8 }
        prefix = Array(out[..<data.lowerBound])
        suffix = Array(out[(data.upperBound + Self.idAndTime)...])
    }

    /// `,"id":"` ‖ 36 ‖ `","recorded_at":"` ‖ 24: what lies between the payload and ``suffix``.
    private static let idAndTime = EncodedEvent.idOpen.utf8CodeUnitCount + 36 + EncodedEvent.timeOpen.utf8CodeUnitCount
        + Timestamp.textBytes
    private static let marker = EventID(bytes: [UInt8](repeating: 0, count: 16))!

    /// An event whose payload is the `dataBytes` bytes `writeData` writes: exactly that many,
    /// one RFC 8785 object (the log stores and hashes them as given, as for ``EncodedEvent``).
    /// `hint` is handed to projections (see ``EncodedEvent/withProjectionHint(_:)``).
    ///
    /// - Throws: `invalid_event` when the payload is not an object or the envelope is too long.
    package func event(
        id: EventID? = nil, recordedAt: Timestamp = .now(), dataBytes: Int, hint: ProjectionHint?,
        writingData writeData: (UnsafeMutableRawBufferPointer) -> Void
    ) throws(EventLogError) -> EncodedEvent {
        let id = id ?? .generate(now: recordedAt)
        let total = prefix.count + dataBytes + Self.idAndTime + suffix.count
        guard total <= EventEnvelope.Limits.envelopeBytes else {
            throw EventLogError(.invalidEvent, "envelope is \(total) bytes; the limit is \(EventEnvelope.Limits.envelopeBytes)")
        }
        let dataRange = prefix.count..<(prefix.count + dataBytes)
        guard dataBytes >= 2 else { throw EventLogError(.invalidEvent, "data must be a JSON object") }
        // Written in place, and digested here, on the producer's thread: the log's writer then
        // chains 72 bytes.
        let event = EncodedEvent(EncodedEvent.Header(id: id, type: type, tenant: tenant, recordedAt: recordedAt, count: total,
                                                     dataRange: dataRange, envelope: nil, hint: hint.map { ($0.key, $0.box) },
                                                     digest: nil), digesting: true) { out in
            var at = 0
            func put(_ bytes: UnsafeRawBufferPointer) {
                if let base = bytes.baseAddress { (out.baseAddress! + at).copyMemory(from: base, byteCount: bytes.count) }
                at += bytes.count
            }
            prefix.withUnsafeBytes(put)
            writeData(UnsafeMutableRawBufferPointer(rebasing: out[dataRange]))
            at = dataRange.upperBound
            put(UnsafeRawBufferPointer(EncodedEvent.idOpen))
            id.write(to: out.baseAddress! + at)
            at += 36
            put(UnsafeRawBufferPointer(EncodedEvent.timeOpen))
            recordedAt.write(to: out.baseAddress! + at)
            at += Timestamp.textBytes
            suffix.withUnsafeBytes(put)
            precondition(at == total, "event template size miscounted")
        }
        let isObject = event.withJSON { $0[dataRange.lowerBound] == UInt8(ascii: "{") && $0[dataRange.upperBound - 1] == UInt8(ascii: "}") }
        guard isObject else { throw EventLogError(.invalidEvent, "data must be a JSON object") }
        return event
    }

}

extension UnsafeRawBufferPointer {
    /// The UTF-8 bytes of `s`, valid for the life of the program.
    init(_ s: StaticString) { self.init(start: s.utf8Start, count: s.utf8CodeUnitCount) }
}
