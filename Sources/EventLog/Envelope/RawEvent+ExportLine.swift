extension RawEvent {
    private static let p0 = Array(#"{"position":"#.utf8)
    private static let p1 = Array(#","chain":""#.utf8)
    private static let p2 = Array(#"","envelope":"#.utf8)

    /// Appends the event's line of the stream format (docs/event-stream-format.md), without the
    /// newline: `{"position":N,"chain":"hex","envelope":{…}}`, the envelope exactly as stored.
    /// `atlas-replay export` writes these lines; `atlas serve` sends them as Server-Sent Events.
    package func appendExportLine(to out: inout [UInt8]) {
        out += Self.p0
        out += String(position).utf8
        out += Self.p1
        out += chainHash.hex.utf8
        out += Self.p2
        out += json
        out.append(UInt8(ascii: "}"))
    }

    /// The event's line of the stream format, without the newline.
    package var exportLine: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(json.count + 120)
        appendExportLine(to: &out)
        return out
    }
}
