import AtlasTesting
import CanonicalJSON
import EventLog
@testable import Inventory
import Testing

/// The sync hot path encodes observations straight from Graph objects' canonical bytes; it must
/// give exactly what the general path (``ItemObserved``) gives, rejections included.
@Suite struct ObservationEncoderTests {
    typealias R = ObservationEncodingTests

    /// Plain ASCII, so that most strings take the direct path.
    static func plain(_ rng: inout SplitMix64, max: Int = 20) -> String {
        String((0..<(1 + rng.below(max))).map { _ in Character(Unicode.Scalar(UInt8(97 + rng.below(26)))) })
    }

    /// A string value of some kind: plain, with escapes, long, or over a limit.
    static func someString(_ rng: inout SplitMix64) -> String {
        switch rng.below(10) {
        case 0: return R.randomString(&rng)
        case 1: return String(repeating: "x", count: 1020 + rng.below(10))
        case 2: return String(repeating: "\"", count: 500 + rng.below(30))
        case 3: return ""
        default: return plain(&rng)
        }
    }

    static func someValue(_ rng: inout SplitMix64) -> JSONValue {
        switch rng.below(8) {
        case 0: return .number(Double(rng.below(1000)) / 4)
        case 1: return .bool(rng.below(2) == 0)
        case 2: return .null
        case 3: return .array([.string(plain(&rng)), .number(1)])
        case 4: return .object(["a": .string(plain(&rng))])
        default: return .string(someString(&rng))
        }
    }

    static func randomGraphObject(_ rng: inout SplitMix64, nameField: String) -> JSONValue {
        var o: [String: JSONValue] = [:]
        switch rng.below(20) {
        case 0: break  // no id
        case 1: o["id"] = .number(7)
        case 2: o["id"] = .string("")
        case 3: o["id"] = .string(R.randomString(&rng, max: 8) + "\u{01}")
        case 4: o["id"] = .string(String(repeating: "i", count: 250 + rng.below(12)))
        case 5: o["id"] = .string("a\"b\\c")
        default: o["id"] = .string(plain(&rng, max: 36))
        }
        if rng.below(5) != 0 { o[nameField] = rng.below(8) == 0 ? someValue(&rng) : .string(someString(&rng)) }
        let odata = ["#microsoft.graph.windows10GeneralConfiguration", "#microsoft.graph.iosCompliancePolicy",
                     "#microsoft.graph.macOSCustomConfiguration", "#microsoft.graph.androidWorkProfile", "unknown",
                     "#microsoft.graph.İosThing", "WINDOWS10", "#Microsoft.Graph.iosX", "#microsoft.graph.windows\u{301}x", "#", ""]
        if rng.below(3) != 0 { o["@odata.type"] = rng.below(6) == 0 ? someValue(&rng) : .string(odata[rng.below(odata.count)]) }
        if rng.below(2) == 0 { o["@odata.etag"] = rng.below(4) == 0 ? someValue(&rng) : .string(plain(&rng)) }
        if rng.below(2) == 0 {
            let versions: [JSONValue] = [.number(Double(rng.below(100))), .number(2.5), .number(-0.0), .number(1e300), .number(-42),
                                         .string(plain(&rng)), .bool(true), .null, .string(someString(&rng))]
            o["version"] = versions[rng.below(versions.count)]
        }
        if rng.below(2) == 0 {
            switch rng.below(6) {
            case 0: o["roleScopeTagIds"] = .array([])
            case 1: o["roleScopeTagIds"] = .array((0..<(250 + rng.below(10))).map { .string(String($0)) })
            case 2: o["roleScopeTagIds"] = .array([.string("0"), .number(1)])
            case 3: o["roleScopeTagIds"] = .array([.string(String(repeating: "\\", count: 200 + rng.below(100)))])
            case 4: o["roleScopeTagIds"] = .string("0")
            default: o["roleScopeTagIds"] = .array((0..<rng.below(4)).map { _ in .string(someString(&rng)) })
            }
        }
        if rng.below(2) == 0 {
            switch rng.below(5) {
            case 0: o["templateReference"] = .object(["templateFamily": .string(someString(&rng)), "templateId": .string(plain(&rng))])
            case 1: o["templateReference"] = .object(["templateId": .string(plain(&rng))])
            case 2: o["templateReference"] = .object(["templateFamily": .number(3)])
            case 3: o["templateReference"] = .string("endpointSecurityFirewall")
            default: o["templateReference"] = .object(["templateFamily": .string(plain(&rng))])
            }
        }
        for key in ["platforms", "technologies", "createdDateTime", "lastModifiedDateTime", "modifiedDateTime"] where rng.below(3) == 0 {
            o[key] = rng.below(5) == 0 ? someValue(&rng) : .string(key == "platforms" ? ["windows10", "iOS", "macOS", "linux", "İOS", "ANDROID", "x\"y"][rng.below(7)] : plain(&rng))
        }
        for _ in 0..<rng.below(6) { o[plain(&rng, max: 12)] = someValue(&rng) }
        if rng.below(10) == 0 { o["a\"quoted\\key"] = .string("x") }
        return .object(o)
    }

    /// The text of `item` with its top-level members in a random order (values canonical).
    static func shuffledText(_ item: GraphObject, _ rng: inout SplitMix64) throws -> [UInt8] {
        guard case .object(let members)? = try? JSONParser().parse(item.canonicalJSON) else { return item.canonicalJSON }
        var keys = Array(members.keys)
        for i in keys.indices.reversed() where i > 0 { keys.swapAt(i, rng.below(i + 1)) }
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (i, key) in keys.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            CanonicalJSON.writeString(key, into: &out)
            out.append(UInt8(ascii: ":"))
            try CanonicalJSON.write(members[key]!, into: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// `encoder`'s observation of the object `text`, read as the offline source reads an item
    /// line: transcoded inside `{"item": …}` with its members indexed.
    static func encodeIndexed(_ text: [UInt8], _ encoder: ObservationEncoder) throws -> Result<ObservationEncoder.Encoded, any Error> {
        let line = Array(#"{"item":"#.utf8) + text + [UInt8(ascii: "}")]
        return try line.withUnsafeBytes { b in
            try CanonicalJSON.withCanonicalMembers(of: b) { c in
                let members = c.members(ofValueAt: 0)
                #expect(members != nil)
                return Result { try encoder.encode(canonicalObject: UnsafeRawBufferPointer(rebasing: c.bytes[c.members[0].value]), members: members) }
            }
        }
    }

    /// Expects two encodings of one object to give the same payload and hint, or the same
    /// rejection.
    static func expectSame(_ x: Result<ObservationEncoder.Encoded, any Error>, _ y: Result<ObservationEncoder.Encoded, any Error>,
                           _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        switch (x, y) {
        case (.success(let a), .success(let b)):
            #expect(Array(a.event.json[a.event.dataRange]) == Array(b.event.json[b.event.dataRange]), sourceLocation: sourceLocation)
            #expect(a.event.projectionHint(as: ItemObserved.IndexFields?.self) == b.event.projectionHint(as: ItemObserved.IndexFields?.self),
                    sourceLocation: sourceLocation)
        case (.failure(let a as ItemObserved.Rejection), .failure(let b as ItemObserved.Rejection)):
            #expect(a == b, sourceLocation: sourceLocation)
        default:
            Issue.record("\(what) disagree: \(x) vs \(y)", sourceLocation: sourceLocation)
        }
    }

    @Test func directEncodingEqualsTheGeneralPath() throws {
        var rng = SplitMix64(seed: 0x0E4C)
        let run = EventID.generate().description
        let selection = String(repeating: "9f", count: 32)
        var accepted = 0, rejected = 0, directPath = 0
        for i in 0..<4000 {
            let type = PolicyTypeRegistry.all[rng.below(PolicyTypeRegistry.all.count)]
            let item = try GraphObject(Self.randomGraphObject(&rng, nameField: type.nameField))
            let encoder = ObservationEncoder(type: type, runID: i % 50 == 0 ? "not-a-run" : run,
                                             selectionHash: i % 70 == 0 ? "short" : selection, tenant: "contoso", correlationID: nil)
            let general = Result { try ItemObserved(graphObject: item, type: type, runID: encoder.runID, selectionHash: encoder.selectionHash) }
            let direct = Result { try encoder.encode(item) }
            // From the bytes in place (as the offline source encodes): the same result.
            let inPlace = Result { try item.canonicalJSON.withUnsafeBytes { try encoder.encode(canonicalObject: $0) } }
            // With the members indexed by the transcoder (as the offline source reads a line), from
            // a text whose members are out of order: the same result again.
            let indexed = try Self.encodeIndexed(Self.shuffledText(item, &rng), encoder)
            Self.expectSame(inPlace, indexed, "indexed and scanned")
            Self.expectSame(direct, inPlace, "in place and from a GraphObject")
            switch (general, direct) {
            case (.success(let o), .success(let e)):
                accepted += 1
                var data: [UInt8] = []
                try o.writeData(into: &data)
                #expect(Array(e.event.json[e.event.dataRange]) == data, "\(String(decoding: item.canonicalJSON, as: UTF8.self))")
                #expect(e.externalID == o.externalID)
                #expect(Hex.encode(e.contentSHA256) == o.contentSHA256)
                let hinted = try #require(e.event.projectionHint(as: ItemObserved.IndexFields?.self))
                #expect(hinted == ItemObserved.IndexFields(o))
                if try encoder.encodeDirectly(item, recordedAt: .now()) != nil { directPath += 1 }
                #expect(e.event.type == InventoryEventType.itemObserved && e.event.tenant == "contoso")
            case (.failure(let a as ItemObserved.Rejection), .failure(let b as ItemObserved.Rejection)):
                rejected += 1
                #expect(a == b)
            default:
                Issue.record("paths disagree on \(String(decoding: item.canonicalJSON, as: UTF8.self)): \(general) vs \(direct)")
            }
        }
        #expect(accepted > 2500 && rejected > 300)
        // Most objects take the direct path; the rest are handed over, with the same result.
        #expect(directPath > accepted * 3 / 4 && directPath < accepted)
    }
}
