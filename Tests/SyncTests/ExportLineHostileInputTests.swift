import CanonicalJSON
import Foundation
import Sync
import Testing

/// Hostile offline-export lines: `ExportLine.parse` either succeeds or throws
/// `ExportLine.Error` with a message, never crashes, and stays fast.
@Suite struct ExportLineHostileInputTests {
    /// SplitMix64, seeded: the same mutations on every run.
    struct Mutator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
        mutating func mutate(_ input: [UInt8]) -> [UInt8] {
            var b = input
            for _ in 0...below(4) {
                let at = below(b.count + 1)
                switch below(9) {
                case 0 where !b.isEmpty: b[min(at, b.count - 1)] ^= UInt8(truncatingIfNeeded: 1 << below(8))
                case 1: b = Array(b.prefix(at))
                case 2: b.insert(0, at: at)
                case 3: b.insert(contentsOf: [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF]][below(5)], at: at)
                case 4: b.insert(contentsOf: Array(#"{}[]",:\"#.utf8)[below(9)...].prefix(1 + below(3)), at: at)
                case 5: b.insert(contentsOf: Array(repeating: UInt8(ascii: "{"), count: 1 + below(2000)), at: at)
                case 6: b.insert(contentsOf: Array(#"\ud800\u0000\uDFFF\u"#.utf8).prefix(2 + below(20)), at: at)
                case 7 where !b.isEmpty:
                    let s = below(b.count), e = min(b.count, s + below(64))
                    b.insert(contentsOf: b[s..<e], at: at)
                default: b.insert(contentsOf: Array(["1e999999", "-0", "1.0e-400", "true", "null", #""item""#][below(6)].utf8), at: at)
                }
            }
            return b
        }
    }

    static let lines = [
        #"{"policy_type":"deviceConfiguration","item":{"id":"a1","displayName":"Baseline","settings":{"x":[1,2,{"y":null}]}}}"#,
        #"{"policy_type":"deviceCompliancePolicy","failed":{"code":"Forbidden","message":"no access"}}"#,
        #"{"policy_type":"settingsCatalogPolicy","item":{"id":"b2","name":"\u00e9\ud83d\ude00","n":-1.5e3}}"#,
    ]

    static func parse(_ bytes: [UInt8]) -> Result<ExportLine, ExportLine.Error> {
        bytes.withUnsafeBytes { b in Result { () throws(ExportLine.Error) -> ExportLine in try ExportLine.parse(b) } }
    }

    @Test func mutatedLinesParseOrThrowExportLineError() {
        var m = Mutator(state: 0x5EED)
        var ok = 0, bad = 0
        for i in 0..<5000 {
            switch Self.parse(m.mutate(Array(Self.lines[i % Self.lines.count].utf8))) {
            case .success: ok += 1
            case .failure(let e):
                #expect(!e.message.isEmpty)
                bad += 1
            }
        }
        #expect(ok > 0 && bad > 0)
    }

    @Test func hugeDeepAndBinaryLinesAreRejectedWithAShortMessage() {
        let huge = #"{"policy_type":"deviceConfiguration","item":{"id":"a","displayName":""# + String(repeating: "x", count: 10 << 20) + #""}}"#
        let deep = #"{"policy_type":"deviceConfiguration","item":{"id":"a","v":"# + String(repeating: "[", count: 100_000)
            + String(repeating: "]", count: 100_000) + "}}"
        var cases: [[UInt8]] = [Array(huge.utf8), Array(deep.utf8)]
        cases.append(Array(#"{"policy_type":"deviceConfiguration","item":{"id":"a","displayName":"x"#.utf8) + [0xFF, 0xFE] + Array(#""}}"#.utf8))
        cases.append(Array(#"{"policy_type":"device"#.utf8) + [0] + Array(#"Configuration","item":{"id":"a"}}"#.utf8))
        cases.append(Array(#"{"policy_type":"deviceConfiguration","item":{"id":"a\u0000"}}"#.utf8) + [0])
        cases.append([0xEF, 0xBB, 0xBF] + Array(Self.lines[0].utf8))
        cases.append(Array(repeating: 0, count: 4096))
        for c in cases {
            if case .failure(let e) = Self.parse(c) {
                #expect(!e.message.isEmpty)
                #expect(e.message.utf8.count < 4096, "an error message should not echo megabytes of input")
            }
        }
        // A 10 MB display name is over the 1 MiB string limit: rejected, with the type still known? No —
        // the parser stops at the string, so the type is unknown and every type becomes incomplete.
        if case .success = Self.parse(Array(huge.utf8)) { Issue.record("a 10 MB display name was accepted") }
    }
}
