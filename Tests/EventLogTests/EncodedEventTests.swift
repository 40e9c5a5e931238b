import CanonicalJSON
import EventLog
import LMDB
import Testing
import TestSupport

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
