import CanonicalJSON
import EventLog

/// Reads top-level fields of a stored envelope without building a JSON tree: enough for
/// filters and counters (`tenant`, `type`, `recorded_at`) on the hot path of export and stats.
///
/// It reads the log's ``EnvelopeHeader`` (from the end of a canonical envelope, else member by
/// member), so it is cheap; malformed input yields `nil` (callers then fall back to a full
/// decode or report it).
package struct EnvelopeFields: Sendable, Hashable {
    package var tenant: String
    package var type: String
    package var recordedAt: String

    /// The tenant, type and recorded_at of `json`, or `nil` when they cannot be read.
    package static func read(_ json: [UInt8]) -> EnvelopeFields? {
        json.withUnsafeBytes { read($0) }
    }

    package static func read(_ b: UnsafeRawBufferPointer) -> EnvelopeFields? {
        guard let h = EnvelopeHeader.read(b), h.recordedAtRange.count >= 2, b[h.recordedAtRange.lowerBound] == UInt8(ascii: "\"") else {
            return nil
        }
        return EnvelopeFields(tenant: h.tenant, type: h.type, recordedAt: JSONObjectScanner.string(b, h.recordedAtRange))
    }
}
