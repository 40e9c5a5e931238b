import AtlasTesting
import CanonicalJSON
import EventLog
@testable import Inventory
import Testing

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

    /// The front-and-back reader of the canonical layout reads what the member scanner reads
    /// from any JSON text, and gives up (so the scanner runs) on other layouts and escapes.
    @Test func canonicalLayoutReaderAgreesWithTheScanner() throws {
        var rng = SplitMix64(seed: 0x1A70)
        var fast = 0, fellBack = 0
        for i in 0..<3000 {
            var o = Self.randomObservation(&rng)
            if i % 7 == 0 { o.externalID = "id\"quoted\",\"policy_type\":\"x\\" }
            if i % 11 == 0 { o.policyType = "type\"with\\escapes" }
            if i % 13 == 0 { o.displayName = ",\"external_id\":\"fake\"" }
            var data: [UInt8] = []
            try o.writeData(into: &data)
            var variants = [data]
            // Damage: a flipped byte, a truncation, a reordered text with the same members.
            var flipped = data
            flipped[rng.below(flipped.count)] ^= UInt8(1 << rng.below(8))
            variants.append(flipped)
            variants.append(Array(data.prefix(rng.below(data.count))))
            if case .object(let members) = o.data {
                let text = "{" + members.keys.sorted(by: >).map { k in
                    "\(String(decoding: try! CanonicalJSON.serialize(.string(k)), as: UTF8.self)):\(String(decoding: try! CanonicalJSON.serialize(members[k]!), as: UTF8.self))"
                }.joined(separator: ",") + "}"
                variants.append(Array(text.utf8))
            }
            for (v, bytes) in variants.enumerated() {
                let scanned = bytes.withUnsafeBytes { ItemObserved.IndexFields(scanning: $0) }
                guard let read = bytes.withUnsafeBytes({ ItemObserved.IndexFields(canonicalLayout: $0) }) else {
                    if v == 0 { fellBack += 1 }
                    continue
                }
                if v == 0 { fast += 1 }
                // On text that is not JSON at all, each may read something (neither traps);
                // stored payloads are canonical JSON, which verify proves.
                guard (try? JSONParser().parse(bytes)) != nil else { continue }
                #expect(read == scanned, "\(String(decoding: bytes, as: UTF8.self))")
            }
        }
        // Valid payloads take the fast path unless the policy type has escapes.
        #expect(fast >= 2700)
        #expect(fellBack > 0)
    }

    /// The sync-runs projection reuses a row it just wrote instead of parsing it again; that is
    /// only sound when a row read back from its bytes is the row that was written.
    @Test func syncRunRowsReadBackAsWritten() throws {
        var rng = SplitMix64(seed: 0x5C4E)
        for i in 0..<500 {
            var run = SyncRun(runID: EventID.generate().description, tenant: Self.randomString(&rng), selectionHash: String(repeating: "cd", count: 32))
            run.selection = .object(["policy_types": .array([.string(Self.randomString(&rng))]), "include_foundations": .bool(i % 2 == 0),
                                     "n": .number(Double(rng.below(1_000_000)) / 8)])
            run.resolvedTypes = (0..<rng.below(5)).map { _ in Self.randomString(&rng) }
            run.source = i % 3 == 0 ? "graph" : "file"
            run.correlationID = i % 4 == 0 ? nil : Self.randomString(&rng)
            run.status = [.running, .success, .partial, .failed, .skipped][rng.below(5)]
            run.hadErrors = i % 5 == 0
            run.startedAt = i % 6 == 0 ? nil : Timestamp(millisecondsSinceEpoch: Int64(rng.below(4_000_000_000)) * 1000 + Int64(rng.below(1000)))
            run.finishedAt = i % 7 == 0 ? nil : Timestamp(millisecondsSinceEpoch: Int64(rng.below(4_000_000_000)) * 1000)
            run.startedPosition = i % 8 == 0 ? nil : UInt64(rng.below(1 << 40))
            run.finishedPosition = i % 9 == 0 ? nil : UInt64(rng.below(1 << 40))
            run.observed = rng.below(1_000_000)
            run.upserted = rng.below(1_000_000)
            run.errors = rng.below(100)
            run.errorCodes = (0..<rng.below(3)).map { _ in InventoryErrorCode.allCases[rng.below(InventoryErrorCode.allCases.count)] }
            run.errorContext = (0..<rng.below(3)).map { _ in Self.randomString(&rng, max: 40) }
            for _ in 0..<rng.below(6) {
                run.types[Self.randomString(&rng)] = .init(complete: rng.below(2) == 0, count: rng.below(10_000),
                                                          errorCode: rng.below(3) == 0 ? .graphThrottled : nil)
            }
            let bytes = try CanonicalJSON.serialize(run.json)
            let back = try SyncRun(json: try JSONParser().parse(bytes))
            #expect(back == run)
            #expect(try CanonicalJSON.serialize(back.json) == bytes)
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
