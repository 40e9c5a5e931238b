import AtlasTesting
import CanonicalJSON
import EventLog
import Foundation
import Inventory
import Testing

/// Hostile input to the selection normalizer and the envelope decoder: they either succeed or
/// throw their own error type, never crash, and stay fast.
@Suite struct HostileInputTests {
    static let selections = [
        #"{"policy_types":["deviceConfiguration","deviceCompliancePolicy"]}"#,
        #"{"categories":["compliance","configuration"],"include_foundations":true,"include_dependencies":false}"#,
        #"{}"#,
    ]

    @Test func mutatedSelectionsParseOrThrowSelectionError() {
        var m = HostileMutator(seed: 0xA71A5)
        var accepted = 0, rejected = 0
        for i in 0..<4000 {
            let base = Array(Self.selections[i % Self.selections.count].utf8)
            let text = String(decoding: m.mutate(base), as: UTF8.self)
            do {
                let r = try SelectionParser.parse(text)
                // An accepted selection normalizes to a stable form that parses to itself.
                let again = try SelectionParser.parse(r.selection.canonicalText)
                #expect(again.selection == r.selection)
                accepted += 1
            } catch {
                #expect(!error.message.isEmpty)
                rejected += 1
            }
        }
        #expect(accepted > 0 && rejected > 0)
    }

    @Test func hostileSelectionShapesAreRejectedWithAMessage() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let cases: [String] = [
            deep,
            #"{"policy_types":["# + String(repeating: "[", count: 50) + "]}",
            #"{"policy_types":[""# + String(repeating: "x", count: 10 << 20) + #""]}"#,
            "{\"policy_types\":[\"device\u{0}Configuration\"]}",
            "{\"categories\":\"compliance\"}", "[]", "null", "", "\u{FEFF}{}", "{}{}", #"{"policy_types":null}"#,
            #"{"include_foundations":"yes"}"#, #"{"policy_types":[1e999]}"#, #"{"a":1}"#,
        ]
        for c in cases {
            do { _ = try SelectionParser.parse(c) } catch {
                #expect(!error.message.isEmpty)
                #expect(error.message.utf8.count < 4096, "an error message should not echo megabytes of input")
            }
        }
    }

    @Test func mutatedEnvelopesDecodeOrThrowEventLogError() throws {
        let base = try EventEnvelope(
            type: "inventory.item_observed", tenant: "contoso", correlationID: "run-1",
            data: ["policy_type": "deviceConfiguration", "item_id": "abc", "display_name": "Ünïcode \u{1F600}",
                   "n": .number(42), "nested": ["a": [true, false, .null]]]).canonicalJSON()
        var m = HostileMutator(seed: 0xE1E)
        var decoded = 0
        for _ in 0..<4000 {
            let bytes = m.mutate(base)
            do {
                let e = try EventEnvelope(canonicalJSON: bytes, position: 7)
                // Whatever decodes re-serializes without trapping.
                _ = try? e.canonicalJSON()
                decoded += 1
            } catch {
                #expect(error.code == .corruptEvent || !error.message.isEmpty)
            }
        }
        #expect(decoded < 4000)
    }
}
