import AtlasTesting
import CanonicalJSON
import EventLog
import LMDB
import Testing

/// Events serialized by their producer (payload written straight to bytes) are the same
/// events, with the same checks, as envelopes the store serializes.
@Suite struct EncodedEventTests {
    @Test func writtenPayloadEqualsTheEnvelopeForm() throws {
        let e = makeEvent(n: 7)
        let fast = try EncodedEvent(id: e.id, type: e.type, tenant: e.tenant, recordedAt: e.recordedAt, correlationID: e.correlationID) { out in
            try CanonicalJSON.write(e.data, into: &out)
        }
        #expect(fast.json == (try e.canonicalJSON()))
        #expect(Array(fast.json[fast.dataRange]) == (try CanonicalJSON.serialize(e.data)))
        let viaEnvelope = try EncodedEvent(e)
        #expect(viaEnvelope.json == fast.json && viaEnvelope.dataRange == fast.dataRange)
    }

    @Test func headerAndPayloadAreChecked() async throws {
        await expectCode(.invalidEvent) {
            _ = try EncodedEvent(type: "Bad Type", tenant: "acme") { $0 += "{}".utf8 }
        }
        await expectCode(.invalidEvent) {
            _ = try EncodedEvent(type: "test.x", tenant: "") { $0 += "{}".utf8 }
        }
        await expectCode(.invalidEvent) {
            _ = try EncodedEvent(type: "test.x", tenant: "acme") { $0 += "[1]".utf8 }
        }
    }

    /// A template's events are byte for byte the general initializer's, over tenants and
    /// correlation ids that need escapes, schemas and times from 1970 to the year 9999.
    @Test func templateEventsEqualTheGeneralForm() throws {
        var rng = SplitMix64(seed: 0x7E4)
        let tenants = ["acme", "tenant \"quoted\"", "ü-tenant", "a\\b", "tab\tand\u{1}", String(repeating: "t", count: 256)]
        let correlations: [String?] = [nil, "run-1", "quote \" and \\ backslash", "☃"]
        for i in 0..<300 {
            let type = ["test.happened", "inventory.item_observed", "a"][rng.below(3)]
            let schema = [1, 2, 999, 1_000_000][rng.below(4)]
            let tenant = tenants[rng.below(tenants.count)]
            let correlation = correlations[rng.below(correlations.count)]
            let template = try EventTemplate(type: type, schema: schema, tenant: tenant, correlationID: correlation)
            let id = EventID.generate()
            // Up to 9999-12-31T23:59:59.999Z.
            let at = Timestamp(millisecondsSinceEpoch: i == 0 ? 253_402_300_799_999 : Int64(rng.below(253_402_300_800_000)))
            let payload = Array(#"{"n":\#(i),"s":"x\u0001"}"#.utf8)
            let general = try EncodedEvent(id: id, type: type, schema: schema, tenant: tenant, recordedAt: at, correlationID: correlation) {
                $0 += payload
            }
            let fast = try template.event(id: id, recordedAt: at, dataBytes: payload.count, hint: ProjectionHint(i)) { out in
                out.copyBytes(from: payload)
            }
            #expect(fast.json == general.json)
            #expect(fast.dataRange == general.dataRange)
            #expect(fast.id == id && fast.type == type && fast.tenant == tenant && fast.recordedAt == at)
            #expect(fast.projectionHint(as: Int.self) == i)
            #expect(fast.projectionHint(as: String.self) == nil)
            #expect(try EncodedEvent(stored: fast.json).json == fast.json)
        }
    }

    @Test func templateChecksHeaderPayloadAndLength() async throws {
        await expectCode(.invalidEvent) { _ = try EventTemplate(type: "Bad Type", tenant: "acme") }
        await expectCode(.invalidEvent) { _ = try EventTemplate(type: "test.x", tenant: "") }
        await expectCode(.invalidEvent) { _ = try EventTemplate(type: "test.x", tenant: "acme", correlationID: "") }
        let template = try EventTemplate(type: "test.x", tenant: "acme")
        await expectCode(.invalidEvent) {
            _ = try template.event(dataBytes: 3, hint: nil) { $0.copyBytes(from: "[1]".utf8) }
        }
        let limit = EventEnvelope.Limits.envelopeBytes
        await expectCode(.invalidEvent) {
            _ = try template.event(dataBytes: limit, hint: nil) { _ in Issue.record("an over-long payload must not be written") }
        }
    }

    @Test func encodedAppendsFeedProjectionsAndStayIdempotent() async throws {
        let store = try openStore(tempPath(), projections: [TenantCounts()])
        let events = try (0..<50).map { n in
            try EncodedEvent(type: "test.happened", tenant: n % 2 == 0 ? "acme" : "globex", correlationID: "run") { out in
                out += #"{"n":"#.utf8
                out += String(n).utf8
                out += "}".utf8
            }
        }
        let first = try await store.append(encoded: events, precondition: nil)
        #expect(first.written == 50)
        let again = try await store.append(encoded: events, precondition: nil)
        #expect(again.written == 0 && again.positions == first.positions)
        let counts = try dump(store, TenantCounts().table("counts"))
        #expect(counts[Array("acme".utf8)] == UInt64BE.bytes(25))
        #expect(counts[Array("globex".utf8)] == UInt64BE.bytes(25))
        verifyChain(try allRawEvents(store))
        for e in try store.events(from: 1, limit: 50) { #expect(e.envelope.data["n"] != nil) }
    }
}

/// `atlas-replay verify` proves stored envelopes canonical in place; whatever it accepts, full
/// decoding must accept too, with the same bytes and fields.
@Suite struct CanonicalProofTests {
    static func variants(_ rng: inout SplitMix64) throws -> [[UInt8]] {
        let tenants = ["acme", "tenant \"quoted\"", "ü-tenant", "a\\b", String(repeating: "t", count: 256)]
        let e = EventEnvelope(id: .generate(), type: ["test.happened", "inventory.item_observed", "a"][rng.below(3)], schema: [1, 2, 999][rng.below(3)],
                              tenant: tenants[rng.below(tenants.count)], recordedAt: Timestamp(millisecondsSinceEpoch: Int64(rng.below(1 << 40))),
                              correlationID: [nil, "run-1", "x\"y", String(repeating: "c", count: 256)][rng.below(4)],
                              data: ["n": .number(Double(rng.below(1000))), "s": .string("é\u{1}\"x"), "a": [1, ["b": true]]])
        let json = try EncodedEvent(e).json
        var out = [json]
        let text = String(decoding: json, as: UTF8.self)
        // Damage: byte flips, members added where a reader might miss them, non-canonical forms.
        for _ in 0..<6 {
            var f = json
            f[rng.below(f.count)] ^= UInt8(1 << rng.below(8))
            out.append(f)
        }
        let edits: [(String, String)] = [
            (#","type":""#, #","tenanz":"b","type":""#), (#","id":""#, #","extra":{},"id":""#),
            (#","schema":"#, #","recorded_au":"x","schema":"#), (#"{"data":"#, #"{"a":1,"data":"#),
            (#","tenant":""#, #","tenant":"q","tenant":""#), (#"Z","schema""#, #"+00:00","schema""#),
            (#""schema":1,"#, #""schema":1.0,"#), (#""schema":1,"#, #""schema":01,"#), (#""data":{"#, #""data": {"#),
        ]
        for (from, to) in edits where text.contains(from) {
            if let r = text.range(of: from) { out.append(Array(text.replacingCharacters(in: r, with: to).utf8)) }
        }
        out.append(Array(text.uppercased().utf8))
        return out
    }

    @Test func provenEnvelopesDecodeToTheSameBytes() throws {
        var rng = SplitMix64(seed: 0xC0FF)
        var scratch: [UInt8] = []
        var proven = 0, valid = 0
        for _ in 0..<1500 {
            for (i, json) in try Self.variants(&rng).enumerated() {
                let fast = EncodedEvent.proven(stored: json, scratch: &scratch)
                let decoded = try? EncodedEvent(EventEnvelope(canonicalJSON: json))
                let slowOK = decoded?.json == json
                if i == 0 {
                    valid += 1
                    #expect(fast != nil, "\(String(decoding: json, as: UTF8.self))")
                }
                guard let fast else { continue }
                proven += 1
                #expect(slowOK, "proven but not canonical: \(String(decoding: json, as: UTF8.self))")
                if let decoded {
                    #expect(fast.id == decoded.id && fast.type == decoded.type && fast.tenant == decoded.tenant
                            && fast.recordedAt == decoded.recordedAt && fast.dataRange == decoded.dataRange)
                }
            }
        }
        // Every valid envelope is proven, and so are mutations that left a valid one.
        #expect(proven > valid)
    }
}

@Suite struct EventIDTests {
    @Test func generatedIDsAreVersion7AndRoundTrip() throws {
        let before = Timestamp.now().millisecondsSinceEpoch
        var previous: EventID?
        for _ in 0..<2000 {
            let id = EventID.generate()
            let b = id.bytes
            #expect(b.count == 16)
            #expect(b[6] >> 4 == 7, "version 7")
            #expect(b[8] >> 6 == 0b10, "RFC 4122 variant")
            let ms = b[0..<6].reduce(Int64(0)) { $0 << 8 | Int64($1) }
            #expect(ms >= before && ms <= Timestamp.now().millisecondsSinceEpoch)
            #expect(EventID(id.description) == id)
            #expect(EventID(bytes: b) == id)
            #expect(id.withUnsafeBytes { Array($0) } == b)
            #expect(id.description.count == 36 && id.description == id.description.lowercased())
            if let previous { #expect(previous != id) }
            previous = id
        }
    }

    /// `<` is the order of the bytes (the order of the `event_ids` index), and equal ids hash
    /// alike.
    @Test func orderIsByteOrder() throws {
        var rng = SplitMix64(seed: 99)
        let ids = (0..<500).map { i -> EventID in
            // Shared prefixes, so that the second word decides some comparisons.
            var b = (0..<16).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if i % 3 == 0 { for j in 0..<8 { b[j] = 0x42 } }
            return EventID(bytes: b)!
        }
        for _ in 0..<2000 {
            let a = ids[rng.below(ids.count)], c = ids[rng.below(ids.count)]
            #expect((a < c) == a.bytes.lexicographicallyPrecedes(c.bytes))
            #expect((a == c) == (a.bytes == c.bytes))
        }
        #expect(Set(ids + ids).count == Set(ids.map(\.bytes)).count)
        #expect(EventID(bytes: [1, 2, 3]) == nil)
        #expect(EventID("0193b9a2-7c1e-7abc-8def-0123456789AB")?.description == "0193b9a2-7c1e-7abc-8def-0123456789ab")
        #expect(EventID("0193b9a2-7c1e-7abc-8def-0123456789a") == nil)
        #expect(EventID("0193b9a2x7c1e-7abc-8def-0123456789ab") == nil)
    }
}
