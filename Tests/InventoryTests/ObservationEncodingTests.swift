import CanonicalJSON
import EventLog
@testable import Inventory
import Testing
import TestSupport

/// The hot path writes `item_observed` payloads and envelopes straight to bytes; they must be
/// exactly the canonical form of the same event built as a `JSONValue` tree.
@Suite struct ObservationEncodingTests {
    static let alphabet: [String] = ["a", "Z", "0", " ", "é", "ü", "\"", "\\", "\n", "\u{01}", "😀", "\u{FFFD}", "/", "<", "\u{7F}", "{", "}"]

    static func randomString(_ rng: inout SplitMix64, max: Int = 12) -> String {
        String((0..<rng.below(max + 1)).map { _ in Character(alphabet[rng.below(alphabet.count)]) })
    }

    static func randomObservation(_ rng: inout SplitMix64) -> ItemObserved {
        var meta: [String: JSONValue] = [:]
        if rng.below(2) == 0 { meta["odata_type"] = .string(randomString(&rng)) }
        if rng.below(2) == 0 { meta["version"] = rng.below(2) == 0 ? .number(Double(rng.below(1_000_000))) : .string(randomString(&rng)) }
        if rng.below(2) == 0 { meta["scope_tag_ids"] = .array((0..<rng.below(4)).map { _ in .string(randomString(&rng)) }) }
        if rng.below(2) == 0 { meta["created_at"] = .string(randomString(&rng)) }
        if rng.below(3) == 0 { meta["template_family"] = .string(randomString(&rng)) }
        // Hand-built observations may carry keys outside the whitelist; they still sort canonically.
        if rng.below(8) == 0 { meta[["a_first", "n_middle", "zz_last"][rng.below(3)]] = .string(randomString(&rng)) }
        return ItemObserved(
            runID: EventID.generate().description, selectionHash: String(repeating: "ab", count: 32),
            policyType: PolicyTypeRegistry.all[rng.below(PolicyTypeRegistry.all.count)].key, externalID: randomString(&rng, max: 40),
            displayName: rng.below(4) == 0 ? nil : randomString(&rng, max: 60), category: "configuration",
            platform: rng.below(3) == 0 ? nil : "windows", meta: meta,
            contentSHA256: String(repeating: "0f", count: 32), droppedMetaKeys: rng.below(3) == 0 ? 0 : rng.below(100_000))
    }

    @Test func payloadBytesAreTheCanonicalFormOfData() throws {
        var rng = SplitMix64(seed: 0x0B5E)
        for _ in 0..<3000 {
            let o = Self.randomObservation(&rng)
            var out: [UInt8] = []
            try o.writeData(into: &out)
            #expect(out == (try CanonicalJSON.serialize(o.data)), "\(String(decoding: out, as: UTF8.self))")
        }
    }

    @Test func eventBytesEqualTheEnvelopeOfData() throws {
        var rng = SplitMix64(seed: 0xE7E7)
        for _ in 0..<500 {
            let o = Self.randomObservation(&rng)
            let tenant = "tenant-" + Self.randomString(&rng)
            let at = Timestamp(millisecondsSinceEpoch: 1_700_000_000_000 + Int64(rng.below(1_000_000)))
            let fast = try o.event(tenant: tenant, correlationID: o.runID, recordedAt: at)
            let envelope = EventEnvelope(id: fast.id, type: InventoryEventType.itemObserved, tenant: tenant, recordedAt: at,
                                         correlationID: o.runID, data: o.data)
            #expect(fast.json == (try envelope.canonicalJSON()))
            // And it decodes back to the same observation.
            let back = try EventEnvelope(canonicalJSON: fast.json)
            #expect(try ItemObserved(data: back.data) == o)
        }
    }

    @Test func projectionHintsEqualWhatIsReadFromThePayload() throws {
        var rng = SplitMix64(seed: 0x41E7)
        for i in 0..<2000 {
            var o = Self.randomObservation(&rng)
            // Some hints must say "no usable hash / run id", exactly as the payload does.
            if i % 10 == 0 { o.contentSHA256 = "not-hex" }
            if i % 15 == 0 { o.runID = "run-\(i)" }
            if i % 20 == 0 { o.selectionHash = String(repeating: "g", count: 64) }
            var data: [UInt8] = []
            try o.writeData(into: &data)
            let read = data.withUnsafeBytes { ItemObserved.IndexFields($0) }
            #expect(read == ItemObserved.IndexFields(o))
            #expect(read.map { InventoryKeys.item("contoso", typeAndID: $0.typeAndID) } == InventoryKeys.item("contoso", o.policyType, o.externalID))
        }
    }

    @Test func graphObjectsInAnyMemberOrderGiveOneObservation() throws {
        let type = PolicyTypeRegistry.type("deviceConfiguration")!
        let run = EventID.generate().description
        let a = try GraphObject(try JSONParser().parse(##"{"id":"x1","displayName":"P","version":2,"@odata.type":"#microsoft.graph.iosGeneralDeviceConfiguration","z":[1,{"b":1,"a":2}]}"##))
        let b = try GraphObject(try JSONParser().parse(##"{"z":[1,{"a":2,"b":1}],"@odata.type":"#microsoft.graph.iosGeneralDeviceConfiguration","version":2,"displayName":"P","id":"x1"}"##))
        #expect(a == b)
        let o = try ItemObserved(graphObject: a, type: type, runID: run, selectionHash: "h")
        #expect(o.platform == "ios")
        #expect(o.meta == ["odata_type": "#microsoft.graph.iosGeneralDeviceConfiguration", "version": 2])
        #expect(o.droppedMetaKeys == 1)
        #expect(o.contentSHA256 == SHA256Hex.of(String(decoding: a.canonicalJSON, as: UTF8.self)))
    }

    @Test(arguments: ["[1,2]", "\"s\"", "7", "null"])
    func nonObjectsAreRejected(json: String) throws {
        let type = PolicyTypeRegistry.type("deviceConfiguration")!
        let item = try GraphObject(try JSONParser().parse(json))
        #expect(throws: ItemObserved.Rejection.self) {
            try ItemObserved(graphObject: item, type: type, runID: "r", selectionHash: "h")
        }
    }
}
