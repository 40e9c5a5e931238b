import CanonicalJSON
@testable import EventLog
import Testing

/// The header reader finds the members of a stored envelope from its end; it must agree with
/// reading the members one by one, and give up (not crash, not guess) on anything else.
@Suite struct EnvelopeHeaderTests {
    static let pieces = ["a", "Z", "0", " ", "é", "\"", "\\", "\n", "😀", "},\"id\":\"", ",\"tenant\":\"", ",\"type\":\"x\"}", "\\\""]

    static func text(_ rng: inout UInt64, max: Int) -> String {
        var s = ""
        for _ in 0..<Int(next(&rng) % UInt64(max + 1)) { s += pieces[Int(next(&rng) % UInt64(pieces.count))] }
        return s
    }

    static func next(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @Test func tailReadingAgreesWithMemberReading() throws {
        var rng: UInt64 = 0xE4E1
        for i in 0..<3000 {
            let tenant = "t" + Self.text(&rng, max: 8)
            let correlation: String? = i % 3 == 0 ? nil : "c" + Self.text(&rng, max: 8)
            let data: JSONValue = ["k": .string(Self.text(&rng, max: 6)), "n": .number(Double(i)), "o": ["x": [1, 2]]]
            let e = EventEnvelope(type: i % 2 == 0 ? "test.happened" : "inventory.item_observed", schema: 1 + i % 300, tenant: tenant,
                                  recordedAt: Timestamp(millisecondsSinceEpoch: 1_700_000_000_000 + Int64(i)), correlationID: correlation, data: data)
            let json = try e.canonicalJSON()
            try json.withUnsafeBytes { b in
                let fast = try #require(EnvelopeHeader.readCanonicalTail(b))
                let slow = try #require(EnvelopeHeader.readMembers(b))
                #expect(fast == slow)
                #expect(fast.tenant == tenant && fast.type == e.type)
                #expect(fast.id(in: b) == e.id && fast.recordedAt(in: b) == e.recordedAt)
                #expect(Array(b[fast.dataRange]) == (try CanonicalJSON.serialize(data)))
            }
        }
    }

    @Test func otherLayoutsAreReadMemberByMemberAndDamageNeverCrashes() throws {
        let e = makeEvent(tenant: "acme \"quoted\"", n: 3)
        let json = try e.canonicalJSON()
        // Spaces after separators: not the canonical layout, still readable member by member.
        let spaced = Array(String(decoding: json, as: UTF8.self).replacingOccurrences(of: "\",\"", with: "\", \"").utf8)
        spaced.withUnsafeBytes { b in
            #expect(EnvelopeHeader.readCanonicalTail(b) == nil)
            #expect(EnvelopeHeader.read(b)?.tenant == "acme \"quoted\"")
        }
        // A member between `tenant` and `type` is not read as part of the tenant.
        let extra = Array(String(decoding: json, as: UTF8.self).replacingOccurrences(of: #","type":""#, with: #","tenanz":"b","type":""#).utf8)
        extra.withUnsafeBytes { b in
            #expect(EnvelopeHeader.readCanonicalTail(b) == nil)
            #expect(EnvelopeHeader.read(b)?.tenant == "acme \"quoted\"")
        }
        // Every truncation and many byte flips: an answer or nil, never a crash or an
        // out-of-range slice.
        for cut in 0..<json.count {
            let h = Array(json[0..<cut]).withUnsafeBytes { EnvelopeHeader.read($0) }
            if let h { #expect(h.dataRange.upperBound <= cut) }
        }
        var rng: UInt64 = 7
        for _ in 0..<5000 {
            var bad = json
            for _ in 0..<1 + Int(Self.next(&rng) % 3) {
                bad[Int(Self.next(&rng) % UInt64(bad.count))] = UInt8(truncatingIfNeeded: Self.next(&rng))
            }
            let h = bad.withUnsafeBytes { EnvelopeHeader.read($0) }
            if let h { #expect(h.dataRange.upperBound <= bad.count && h.idRange.upperBound <= bad.count) }
        }
    }
}
