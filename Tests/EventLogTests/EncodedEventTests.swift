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
