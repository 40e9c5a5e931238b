import CanonicalJSON

extension EncodedEvent {
    /// The limits stored envelopes are decoded with.
    static let decodingLimits = JSONLimits(maxDepth: 256, maxStringBytes: EventEnvelope.Limits.envelopeBytes,
                                           maxInputBytes: EventEnvelope.Limits.envelopeBytes * 2)

    /// Stored envelope bytes proven to be a valid envelope in canonical form without decoding
    /// them into a tree: the canonical transcoder must reproduce them byte for byte, their
    /// top-level members must be exactly the envelope's, and each header field must be valid
    /// and written as ``init(_:)`` writes it. `nil` when any of that fails: the caller then
    /// decodes the bytes (``EventEnvelope/init(canonicalJSON:position:)``), which says what is
    /// wrong. Whatever this accepts, decoding accepts too, with the same bytes.
    ///
    /// - Parameter scratch: reused from call to call for the transcoder's output.
    package static func proven(stored json: [UInt8], scratch: inout [UInt8]) -> EncodedEvent? {
        scratch.removeAll(keepingCapacity: true)
        let proof: (EnvelopeHeader, EventID, Timestamp)? = json.withUnsafeBytes { b in
            // Valid JSON, already in canonical form.
            do { try CanonicalJSON.canonicalize(b, limits: decodingLimits, into: &scratch) } catch { return nil }
            guard scratch.count == b.count, scratch.withUnsafeBytes({ $0.elementsEqual(b) }) else { return nil }
            // Exactly the envelope's members: the header reader matched each marker where the
            // canonical layout puts it, and `data` is one object filling the space before `id`.
            guard let h = EnvelopeHeader.readCanonicalTail(b), JSONObjectScanner.skipValue(b, from: h.dataRange.lowerBound) == h.dataRange.upperBound,
                  b[h.dataRange.lowerBound] == UInt8(ascii: "{") else { return nil }
            // The header fields, valid and in the form the writer gives them.
            guard let id = h.id(in: b), let at = h.recordedAt(in: b) else { return nil }
            var written: [UInt8] = []
            written.reserveCapacity(40)
            id.write(into: &written)
            guard written.elementsEqual(b[(h.idRange.lowerBound + 1)..<(h.idRange.upperBound - 1)]) else { return nil }
            written.removeAll(keepingCapacity: true)
            at.write(into: &written)
            guard written.elementsEqual(b[(h.recordedAtRange.lowerBound + 1)..<(h.recordedAtRange.upperBound - 1)]) else { return nil }
            guard let schema = schema(b, h), let correlation = correlationID(b, h) else { return nil }
            do {
                try EventEnvelope.validateHeader(type: h.type, schema: schema, tenant: h.tenant, correlationID: correlation)
            } catch { return nil }
            return (h, id, at)
        }
        guard let (h, id, at) = proof else { return nil }
        return EncodedEvent(id: id, type: h.type, tenant: h.tenant, recordedAt: at, json: json, dataRange: h.dataRange, envelope: nil)
    }

    /// The integer between `,"schema":` and `,"tenant":"`.
    private static func schema(_ b: UnsafeRawBufferPointer, _ h: EnvelopeHeader) -> Int? {
        var i = h.recordedAtRange.upperBound + #","schema":"#.utf8.count
        var value = 0
        let start = i
        while i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9"), i - start < 8 {
            value = value * 10 + Int(b[i] - UInt8(ascii: "0"))
            i += 1
        }
        guard i > start, i < b.count, b[i] == UInt8(ascii: ","), b[start] != UInt8(ascii: "0") else { return nil }
        return value
    }

    /// The correlation id (`.some(nil)` when the envelope has none), or `nil` when it is not
    /// one string filling the space before `,"data":`.
    private static func correlationID(_ b: UnsafeRawBufferPointer, _ h: EnvelopeHeader) -> String?? {
        let opening = #"{"correlation_id":"#.utf8.count
        if h.dataRange.lowerBound == #"{"data":"#.utf8.count { return .some(nil) }
        let end = h.dataRange.lowerBound - #","data":"#.utf8.count
        guard end > opening, b[opening] == UInt8(ascii: "\""), JSONObjectScanner.skipValue(b, from: opening) == end else { return nil }
        return .some(JSONObjectScanner.string(b, opening..<end))
    }
}
