import AtlasTesting
import CanonicalJSON
import Foundation
import Sync
import Testing

/// Hostile offline-export lines: `ExportLine.parse` either succeeds or throws
/// `ExportLine.Error` with a message, never crashes, and stays fast.
@Suite struct ExportLineHostileInputTests {
    static let lines = [
        #"{"policy_type":"deviceConfiguration","item":{"id":"a1","displayName":"Baseline","settings":{"x":[1,2,{"y":null}]}}}"#,
        #"{"policy_type":"deviceCompliancePolicy","failed":{"code":"Forbidden","message":"no access"}}"#,
        #"{"policy_type":"settingsCatalogPolicy","item":{"id":"b2","name":"\u00e9\ud83d\ude00","n":-1.5e3}}"#,
    ]

    static func parse(_ bytes: [UInt8]) -> Result<ExportLine, ExportLine.Error> {
        bytes.withUnsafeBytes { b in Result { () throws(ExportLine.Error) -> ExportLine in try ExportLine.parse(b) } }
    }

    @Test func mutatedLinesParseOrThrowExportLineError() {
        var m = HostileMutator(seed: 0x5EED, nesting: UInt8(ascii: "{"),
                               tokens: ["1e999999", "-0", "1.0e-400", "true", "null", #""item""#])
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
