import CanonicalJSON
import Foundation

/// The top-level members of a stored (canonical) envelope, found without decoding it: the
/// type, the tenant, where `id`, `recorded_at` and the payload lie.
///
/// A canonical envelope ends `…},"id":"…","recorded_at":"…","schema":N,"tenant":"…","type":"…"}`,
/// and inside a JSON string every `"` is escaped, so the markers of those members cannot occur
/// in their values: ``read(_:)`` finds them from the end, touching a few hundred bytes however
/// large the payload. Bytes laid out any other way are read member by member; bytes that do not
/// look like an envelope give `nil`, and callers then decode the event to report what is wrong.
package struct EnvelopeHeader: Sendable, Equatable {
    package var type: String
    package var tenant: String
    /// The `data` object.
    package var dataRange: Range<Int>
    /// The `recorded_at` value, quotes included.
    package var recordedAtRange: Range<Int>
    /// The `id` value, quotes included.
    package var idRange: Range<Int>

    /// The header of stored envelope bytes `json`, or `nil` when they do not read as one.
    package static func read(_ json: UnsafeRawBufferPointer) -> EnvelopeHeader? {
        read(json, strings: nil)
    }

    static func read(_ json: UnsafeRawBufferPointer, strings: StringInterner?) -> EnvelopeHeader? {
        readCanonicalTail(json, strings: strings) ?? readMembers(json)
    }

    /// Reuses the `String`s of recently seen types and tenants: a long log has few of each,
    /// and making a new one per event costs an allocation.
    final class StringInterner {
        private var entries: [(bytes: [UInt8], string: String)] = []

        func string(_ bytes: UnsafeRawBufferPointer) -> String {
            for i in entries.indices.reversed() where entries[i].bytes.count == bytes.count {
                let equal = bytes.isEmpty || entries[i].bytes.withUnsafeBytes { memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }
                if equal { return entries[i].string }
            }
            let s = String(decoding: bytes, as: UTF8.self)
            if entries.count == 16 { entries.removeFirst() }
            entries.append((Array(bytes), s))
            return s
        }
    }

    /// Reads the members one by one (any member order and spacing).
    static func readMembers(_ json: UnsafeRawBufferPointer) -> EnvelopeHeader? {
        var type: String?, tenant: String?, data: Range<Int>?, recorded: Range<Int>?, id: Range<Int>?
        var scanner = JSONObjectScanner(json)
        while let m = scanner.next() {
            switch m.key.count {
            case 2 where JSONObjectScanner.keyEquals(json, m.key, "id"):
                id = m.value
            case 4 where JSONObjectScanner.keyEquals(json, m.key, "data"):
                data = m.value
            case 4 where JSONObjectScanner.keyEquals(json, m.key, "type") && json[m.value.lowerBound] == UInt8(ascii: "\""):
                type = JSONObjectScanner.string(json, m.value)
            case 6 where JSONObjectScanner.keyEquals(json, m.key, "tenant") && json[m.value.lowerBound] == UInt8(ascii: "\""):
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

    private static let typeMarker: StaticString = #","type":""#
    private static let tenantMarker: StaticString = #","tenant":""#
    private static let schemaMarker: StaticString = #","schema":"#
    private static let recordedMarker: StaticString = #","recorded_at":""#
    private static let dataOpening: StaticString = #"{"data":"#
    private static let correlationOpening: StaticString = #"{"correlation_id":""#
    private static let dataMarker: StaticString = #","data":"#

    /// Reads the canonical layout from the end; `nil` when the bytes are laid out otherwise.
    static func readCanonicalTail(_ b: UnsafeRawBufferPointer, strings: StringInterner? = nil) -> EnvelopeHeader? {
        let n = b.count
        guard let base = b.baseAddress else { return nil }
        func matches(_ marker: StaticString, at i: Int) -> Bool {
            let count = marker.utf8CodeUnitCount
            guard i >= 0, i + count <= n else { return false }
            return memcmp(base + i, marker.utf8Start, count) == 0
        }
        guard n > 64, b[n - 1] == UInt8(ascii: "}"), b[n - 2] == UInt8(ascii: "\"") else { return nil }
        // "type": [a-z0-9._], no escapes.
        var i = n - 3
        while i > 0, (b[i] >= 97 && b[i] <= 122) || (b[i] >= 48 && b[i] <= 57) || b[i] == 46 || b[i] == 95 { i -= 1 }
        let typeStart = i + 1
        guard typeStart < n - 2, matches(typeMarker, at: i - typeMarker.utf8CodeUnitCount + 1) else { return nil }
        let typeMarkerStart = i - typeMarker.utf8CodeUnitCount + 1
        // "tenant": the nearest tenant marker before the type marker.
        let tenantClose = typeMarkerStart - 1
        guard tenantClose > 0, b[tenantClose] == UInt8(ascii: "\"") else { return nil }
        var t = tenantClose - tenantMarker.utf8CodeUnitCount
        let lowest = max(0, tenantClose - 4096)
        while t >= lowest, !matches(tenantMarker, at: t) { t -= 1 }
        guard t >= lowest else { return nil }
        let tenantStart = t + tenantMarker.utf8CodeUnitCount
        // The tenant is one string filling the space up to `,"type":"`: a member sorting
        // between `tenant` and `type` would otherwise read as part of it.
        guard tenantStart <= tenantClose, JSONObjectScanner.skipValue(b, from: tenantStart - 1) == tenantClose + 1 else { return nil }
        // "schema": an integer.
        var s = t - 1
        while s > 0, b[s] >= 48, b[s] <= 57 { s -= 1 }
        guard s < t - 1, matches(schemaMarker, at: s - schemaMarker.utf8CodeUnitCount + 1) else { return nil }
        // "recorded_at": a timestamp (no quotes or backslashes inside).
        let recordedClose = s - schemaMarker.utf8CodeUnitCount
        guard recordedClose > 0, b[recordedClose] == UInt8(ascii: "\"") else { return nil }
        var r = recordedClose - 1
        while r > 0, recordedClose - r < 64, b[r] != UInt8(ascii: "\"") { r -= 1 }
        let recordedOpen = r
        guard b[recordedOpen] == UInt8(ascii: "\""), matches(recordedMarker, at: recordedOpen - recordedMarker.utf8CodeUnitCount + 1) else { return nil }
        // "id": 36 characters.
        let idClose = recordedOpen - recordedMarker.utf8CodeUnitCount
        let idOpen = idClose - 37
        guard idOpen > 0, b[idClose] == UInt8(ascii: "\""), matches(EncodedEvent.idOpen, at: idOpen - EncodedEvent.idOpen.utf8CodeUnitCount + 1) else { return nil }
        // "data": from its opening after the optional correlation id to just before "id".
        let dataEnd = idOpen - EncodedEvent.idOpen.utf8CodeUnitCount + 1
        var dataStart: Int
        if matches(dataOpening, at: 0) {
            dataStart = dataOpening.utf8CodeUnitCount
        } else if matches(correlationOpening, at: 0) {
            var c = correlationOpening.utf8CodeUnitCount
            while c < n, b[c] != UInt8(ascii: "\"") { c += b[c] == UInt8(ascii: "\\") ? 2 : 1 }
            guard c < n, matches(dataMarker, at: c + 1) else { return nil }
            dataStart = c + 1 + dataMarker.utf8CodeUnitCount
        } else {
            return nil
        }
        guard dataStart + 2 <= dataEnd, b[dataStart] == UInt8(ascii: "{"), b[dataEnd - 1] == UInt8(ascii: "}") else { return nil }
        let tenantBytes = UnsafeRawBufferPointer(rebasing: b[tenantStart..<tenantClose])
        let tenant = tenantBytes.contains(UInt8(ascii: "\\"))
            ? JSONObjectScanner.string(b, (tenantStart - 1)..<(tenantClose + 1))
            : strings?.string(tenantBytes) ?? String(decoding: tenantBytes, as: UTF8.self)
        let typeBytes = UnsafeRawBufferPointer(rebasing: b[typeStart..<(n - 2)])
        return EnvelopeHeader(type: strings?.string(typeBytes) ?? String(decoding: typeBytes, as: UTF8.self), tenant: tenant,
                              dataRange: dataStart..<dataEnd, recordedAtRange: recordedOpen..<(recordedClose + 1),
                              idRange: idOpen..<(idClose + 1))
    }

    func id(in json: UnsafeRawBufferPointer) -> EventID? {
        guard idRange.count == 38 else { return nil }
        return EventID(utf8: UnsafeRawBufferPointer(rebasing: json[(idRange.lowerBound + 1)..<(idRange.upperBound - 1)]))
    }

    func recordedAt(in json: UnsafeRawBufferPointer) -> Timestamp? {
        Self.recordedAt(in: json, recordedAtRange)
    }

    /// The timestamp of the `recorded_at` value at `range` (quotes included).
    static func recordedAt(in json: UnsafeRawBufferPointer, _ range: Range<Int>) -> Timestamp? {
        guard range.count > 2, range.upperBound <= json.count else { return nil }
        return Timestamp(rfc3339: String(decoding: json[(range.lowerBound + 1)..<(range.upperBound - 1)], as: UTF8.self))
    }
}
