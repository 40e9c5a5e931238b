import CanonicalJSON

/// The top-level members of a stored (canonical) envelope, found without decoding it: the
/// type, the tenant, where `recorded_at` and the payload lie.
///
/// Reading is not validation: bytes that do not look like an envelope give `nil`, and callers
/// then decode the event to report what is wrong.
struct EnvelopeHeader {
    var type: String
    var tenant: String
    var dataRange: Range<Int>
    /// The `recorded_at` value, quotes included.
    var recordedAtRange: Range<Int>
    /// The `id` value, quotes included.
    var idRange: Range<Int>

    static func read(_ json: UnsafeRawBufferPointer) -> EnvelopeHeader? {
        var type: String?, tenant: String?, data: Range<Int>?, recorded: Range<Int>?, id: Range<Int>?
        var scanner = JSONObjectScanner(json)
        while let m = scanner.next() {
            switch m.key.count {
            case 2 where JSONObjectScanner.keyEquals(json, m.key, "id"):
                id = m.value
            case 4 where JSONObjectScanner.keyEquals(json, m.key, "data"):
                data = m.value
            case 4 where JSONObjectScanner.keyEquals(json, m.key, "type"):
                type = JSONObjectScanner.string(json, m.value)
            case 6 where JSONObjectScanner.keyEquals(json, m.key, "tenant"):
                tenant = JSONObjectScanner.string(json, m.value)
            case 11 where JSONObjectScanner.keyEquals(json, m.key, "recorded_at"):
                recorded = m.value
            default:
                continue
            }
        }
        guard let type, let tenant, let data, let recorded, let id, data.count >= 2, json[data.lowerBound] == UInt8(ascii: "{") else {
            return nil
        }
        return EnvelopeHeader(type: type, tenant: tenant, dataRange: data, recordedAtRange: recorded, idRange: id)
    }

    func id(in json: UnsafeRawBufferPointer) -> EventID? {
        guard idRange.count == 38 else { return nil }
        return EventID(utf8: UnsafeRawBufferPointer(rebasing: json[(idRange.lowerBound + 1)..<(idRange.upperBound - 1)]))
    }

    func recordedAt(in json: UnsafeRawBufferPointer) -> Timestamp? {
        guard recordedAtRange.count > 2 else { return nil }
        return Timestamp(rfc3339: String(decoding: json[(recordedAtRange.lowerBound + 1)..<(recordedAtRange.upperBound - 1)], as: UTF8.self))
    }
}
