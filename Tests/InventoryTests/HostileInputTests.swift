import CanonicalJSON
import EventLog
import Foundation
import Inventory
import Testing

/// A deterministic, seeded mutator of byte strings for property tests over hostile input.
struct HostileMutator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }

    /// Applies 1–4 random mutations: byte flips, truncation, insertion of NUL, invalid UTF-8,
    /// structural characters, long strings or deep nesting, duplication of a slice.
    mutating func mutate(_ input: [UInt8], allowHuge: Bool = false) -> [UInt8] {
        var b = input
        for _ in 0...below(4) {
            let at = below(b.count + 1)
            switch below(allowHuge ? 10 : 9) {
            case 0 where !b.isEmpty: b[min(at, b.count - 1)] ^= UInt8(truncatingIfNeeded: 1 << below(8))
            case 1: b = Array(b.prefix(at))
            case 2: b.insert(0, at: at)
            case 3: b.insert(contentsOf: [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF]][below(5)], at: at)
            case 4: b.insert(contentsOf: Array(#"{}[]",:\"#.utf8)[below(9)...].prefix(1 + below(3)), at: at)
            case 5: b.insert(contentsOf: Array(repeating: UInt8(ascii: "["), count: 1 + below(2000)), at: at)
            case 6: b.insert(contentsOf: Array(#"\ud800\u0000\uDFFF\u"#.utf8).prefix(2 + below(20)), at: at)
            case 7 where !b.isEmpty:
                let s = below(b.count), e = min(b.count, s + below(64))
                b.insert(contentsOf: b[s..<e], at: at)
            case 8: b.insert(contentsOf: Array(["1e999999", "-0", "1.0e-400", "123456789012345678901234567890", "true", "null"][below(6)].utf8), at: at)
            case 9: b.insert(contentsOf: Array(repeating: UInt8(ascii: "a"), count: 1 << 20 + below(1 << 20)), at: at)
            default: b.reverse()
            }
        }
        return b
    }
}

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
