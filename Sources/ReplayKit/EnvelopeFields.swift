import CanonicalJSON

/// Reads top-level fields of a stored envelope without building a JSON tree: enough for
/// filters and counters (`tenant`, `type`, `recorded_at`) on the hot path of export and stats.
///
/// It walks the top-level object only and skips nested values by bracket counting, so it is
/// cheap; malformed input yields `nil` (callers then fall back to a full decode or report it).
public struct EnvelopeFields: Sendable, Hashable {
    public var tenant: String
    public var type: String
    public var recordedAt: String

    static let tenantKey = Array("tenant".utf8)
    static let typeKey = Array("type".utf8)
    static let recordedAtKey = Array("recorded_at".utf8)

    /// The tenant, type and recorded_at of `json`, or `nil` when they cannot be read.
    public static func read(_ json: [UInt8]) -> EnvelopeFields? {
        json.withUnsafeBytes { read($0) }
    }

    public static func read(_ b: UnsafeRawBufferPointer) -> EnvelopeFields? {
        var tenant: String?, type: String?, recorded: String?
        let ok = forEachMember(b) { key, value in
            if key.elementsEqual(tenantKey) { tenant = string(b, value) }
            else if key.elementsEqual(typeKey) { type = string(b, value) }
            else if key.elementsEqual(recordedAtKey) { recorded = string(b, value) }
            return true
        }
        guard ok, let tenant, let type, let recorded else { return nil }
        return EnvelopeFields(tenant: tenant, type: type, recordedAt: recorded)
    }

    /// The decoded string value in `range` of `b` (which includes the quotes), or `nil`.
    static func string(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) -> String? {
        guard range.count >= 2, b[range.lowerBound] == 0x22 else { return nil }
        let inner = UnsafeRawBufferPointer(rebasing: b[(range.lowerBound + 1)..<(range.upperBound - 1)])
        if !inner.contains(0x5C) { return String(decoding: inner, as: UTF8.self) }
        return (try? JSONParser().parse(UnsafeRawBufferPointer(rebasing: b[range])))?.stringValue
    }

    /// Calls `body` with each top-level member's raw key bytes (without quotes) and the byte
    /// range of its value. Returns `false` when the input is not a well-formed object.
    static func forEachMember(
        _ b: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer, Range<Int>) -> Bool
    ) -> Bool {
        var i = 0
        let n = b.count
        func ws() { while i < n, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 } }
        // Advances past a string starting at i (a quote); false when unterminated.
        func skipString() -> Bool {
            i += 1
            while i < n {
                let c = b[i]
                if c == 0x5C { i += 2; continue }
                i += 1
                if c == 0x22 { return true }
            }
            return false
        }
        func skipValue() -> Bool {
            guard i < n else { return false }
            switch b[i] {
            case 0x22: return skipString()
            case 0x7B, 0x5B:
                var depth = 0
                while i < n {
                    let c = b[i]
                    if c == 0x22 { if !skipString() { return false }; continue }
                    if c == 0x7B || c == 0x5B { depth += 1 }
                    if c == 0x7D || c == 0x5D { depth -= 1; if depth == 0 { i += 1; return true } }
                    i += 1
                }
                return false
            default:
                let start = i
                while i < n, b[i] != 0x2C, b[i] != 0x7D, b[i] != 0x5D, b[i] != 0x20, b[i] != 0x0A, b[i] != 0x0D, b[i] != 0x09 { i += 1 }
                return i > start
            }
        }
        ws()
        guard i < n, b[i] == 0x7B else { return false }
        i += 1
        ws()
        if i < n, b[i] == 0x7D { return true }
        while i < n {
            ws()
            guard i < n, b[i] == 0x22 else { return false }
            let keyStart = i + 1
            guard skipString() else { return false }
            let key = UnsafeRawBufferPointer(rebasing: b[keyStart..<(i - 1)])
            ws()
            guard i < n, b[i] == 0x3A else { return false }
            i += 1
            ws()
            let valueStart = i
            guard skipValue() else { return false }
            if !body(key, valueStart..<i) { return true }
            ws()
            guard i < n else { return false }
            if b[i] == 0x2C { i += 1; continue }
            if b[i] == 0x7D { i += 1; ws(); return i == n }
            return false
        }
        return false
    }
}
