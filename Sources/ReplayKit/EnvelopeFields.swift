import CanonicalJSON

/// Reads top-level fields of a stored envelope without building a JSON tree: enough for
/// filters and counters (`tenant`, `type`, `recorded_at`) on the hot path of export and stats.
///
/// It walks the top-level object only (``JSONObjectScanner``), skipping nested values, so it is
/// cheap; malformed input yields `nil` (callers then fall back to a full decode or report it).
public struct EnvelopeFields: Sendable, Hashable {
    public var tenant: String
    public var type: String
    public var recordedAt: String

    /// The tenant, type and recorded_at of `json`, or `nil` when they cannot be read.
    public static func read(_ json: [UInt8]) -> EnvelopeFields? {
        json.withUnsafeBytes { read($0) }
    }

    public static func read(_ b: UnsafeRawBufferPointer) -> EnvelopeFields? {
        var tenant: String?, type: String?, recorded: String?
        var scanner = JSONObjectScanner(b)
        while let m = scanner.next() {
            guard b[m.value.lowerBound] == UInt8(ascii: "\"") else { continue }
            if JSONObjectScanner.keyEquals(b, m.key, "tenant") { tenant = JSONObjectScanner.string(b, m.value) }
            else if JSONObjectScanner.keyEquals(b, m.key, "type") { type = JSONObjectScanner.string(b, m.value) }
            else if JSONObjectScanner.keyEquals(b, m.key, "recorded_at") { recorded = JSONObjectScanner.string(b, m.value) }
        }
        guard let tenant, let type, let recorded else { return nil }
        return EnvelopeFields(tenant: tenant, type: type, recordedAt: recorded)
    }
}
