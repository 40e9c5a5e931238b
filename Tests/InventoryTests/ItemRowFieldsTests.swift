import CanonicalJSON
import EventLog
import Foundation
@testable import Inventory
import Testing

/// An inventory row read from a stored observation's bytes in place (``ItemObserved/RowFields``,
/// `meta` kept as its canonical bytes) is the row the full decode gives, and prints the same JSON.
@Suite struct ItemRowFieldsTests {
    static let metas: [[String: JSONValue]] = [
        [:],
        ["odata_type": "#microsoft.graph.windows10GeneralConfiguration", "version": 3],
        ["scope_tag_ids": ["0", "7"], "etag": "W/\"abc\"", "platforms": ["iOS", "android"], "template_family": .null],
        ["n": 1.5, "big": 1e21, "small": -0.0001, "int": 9_007_199_254_740_991, "t": true, "f": false, "z": .null, "e": [], "o": [:]],
        ["é": "\u{1F600} tab\t newline\n quote\" backslash\\ control\u{01} slash/", "nested": ["a": ["b": [1, ["c": "d"]]]], "": ""],
        ["\u{10000}": 1, "\u{FFFF}": 2, "a": 3, "B": 4],
    ]

    /// One `item_observed` envelope per meta, display name and platform.
    static func envelopes() throws -> [(ItemObserved, [UInt8])] {
        var out: [(ItemObserved, [UInt8])] = []
        for (i, meta) in metas.enumerated() {
            for name in [nil, "Baseline \"Ü\" \\ policy"] as [String?] {
                for platform in [nil, "windows10"] as [String?] {
                    let o = ItemObserved(
                        runID: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", selectionHash: String(repeating: "ab", count: 32),
                        policyType: "deviceConfiguration", externalID: "id-\(i)-\u{00E9}\"\(name == nil ? 0 : 1)",
                        displayName: name, category: "configuration", platform: platform, meta: meta,
                        contentSHA256: String(repeating: "0f", count: 32), droppedMetaKeys: i * 7)
                    let e = try o.event(tenant: "contoso", correlationID: i % 2 == 0 ? nil : "corr-\(i)",
                                        recordedAt: Timestamp(millisecondsSinceEpoch: 1_764_000_000_123 + Int64(i)))
                    out.append((o, e.json))
                }
            }
        }
        return out
    }

    @Test func theRowReadInPlaceIsTheRowDecodedInFull() throws {
        for (n, (o, json)) in try Self.envelopes().enumerated() {
            let raw = RawEvent(position: UInt64(n + 1), chainHash: .genesis, json: json)
            let fast = try #require(InventoryQueries.readItem(json, tenant: "contoso", firstSeenAt: 42, position: raw.position))
            let full = try InventoryQueries.decodeItem(raw, tenant: "contoso", firstSeenAt: 42)
            #expect(fast == full)
            #expect(fast.meta == o.meta)
            #expect(fast.metaJSON == (try CanonicalJSON.serialize(.object(o.meta))))
            #expect((try CanonicalJSON.serialize(fast.json)) == (try CanonicalJSON.serialize(full.json)))
            #expect(fast.displayName == o.displayName && fast.platform == o.platform && fast.externalID == o.externalID)
            // Another tenant's event is not read in place, and the full decode refuses it.
            #expect(InventoryQueries.readItem(json, tenant: "fabrikam", firstSeenAt: 42, position: raw.position) == nil)
            #expect(throws: InventoryPayloadError.self) { try InventoryQueries.decodeItem(raw, tenant: "fabrikam", firstSeenAt: 42) }
        }
    }

    @Test func anEnvelopeLaidOutOtherwiseReadsTheSame() throws {
        for (n, (_, json)) in try Self.envelopes().enumerated() {
            // The same envelope with other member order, spacing and number forms.
            let any = try JSONSerialization.jsonObject(with: Data(json))
            let other = Array(try JSONSerialization.data(withJSONObject: any, options: [.prettyPrinted]))
            #expect(other != json)
            let raw = RawEvent(position: UInt64(n + 1), chainHash: .genesis, json: other)
            let full = try InventoryQueries.decodeItem(raw, tenant: "contoso", firstSeenAt: 42)
            let fast = try #require(InventoryQueries.readItem(other, tenant: "contoso", firstSeenAt: 42, position: raw.position))
            #expect(fast == full)
        }
    }

    @Test func aPayloadTheFullDecodeRefusesIsNotReadInPlace() throws {
        let (_, json) = try Self.envelopes()[12]
        let text = String(decoding: json, as: UTF8.self)
        for (from, to) in [(#""dropped_meta_keys":21"#, #""dropped_meta_keys":2.5"#), (#""category":"configuration""#, #""category":7"#),
                           (#""platform":null"#, #""platform":[]"#), (#""display_name":null"#, #""display_name":false"#)] {
            #expect(text.contains(from))
            let bad = Array(text.replacingOccurrences(of: from, with: to).utf8)
            #expect(InventoryQueries.readItem(bad, tenant: "contoso", firstSeenAt: 1, position: 1) == nil)
            #expect(throws: (any Error).self) {
                try InventoryQueries.decodeItem(RawEvent(position: 1, chainHash: .genesis, json: bad), tenant: "contoso", firstSeenAt: 1)
            }
        }
    }
}
