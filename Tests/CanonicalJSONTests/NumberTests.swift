import AtlasTesting
import Testing
@testable import CanonicalJSON

/// RFC 8785 Appendix B (IEEE-754 bit pattern → canonical text), checked against
/// ECMAScript (`String(x)` in node).
let rfc8785NumberVectors: [(UInt64, String)] = [
    (0x0000_0000_0000_0000, "0"),
    (0x8000_0000_0000_0000, "0"),
    (0x0000_0000_0000_0001, "5e-324"),
    (0x8000_0000_0000_0001, "-5e-324"),
    (0x7FEF_FFFF_FFFF_FFFF, "1.7976931348623157e+308"),
    (0xFFEF_FFFF_FFFF_FFFF, "-1.7976931348623157e+308"),
    (0x4340_0000_0000_0000, "9007199254740992"),
    (0xC340_0000_0000_0000, "-9007199254740992"),
    (0x4430_0000_0000_0000, "295147905179352830000"),
    (0x44B5_2D02_C7E1_4AF5, "9.999999999999997e+22"),
    (0x44B5_2D02_C7E1_4AF6, "1e+23"),
    (0x44B5_2D02_C7E1_4AF7, "1.0000000000000001e+23"),
    (0x444B_1AE4_D6E2_EF4E, "999999999999999700000"),
    (0x444B_1AE4_D6E2_EF4F, "999999999999999900000"),
    (0x444B_1AE4_D6E2_EF50, "1e+21"),
    (0x3EB0_C6F7_A0B5_ED8C, "9.999999999999997e-7"),
    (0x3EB0_C6F7_A0B5_ED8D, "0.000001"),
    (0x41B3_DE43_5555_5553, "333333333.3333332"),
    (0x41B3_DE43_5555_5554, "333333333.33333325"),
    (0x41B3_DE43_5555_5555, "333333333.3333333"),
    (0x41B3_DE43_5555_5556, "333333333.3333334"),
    (0x41B3_DE43_5555_5557, "333333333.33333343"),
    (0xBECB_F647_612F_3696, "-0.0000033333333333333333"),
    (0x4314_3FF3_C1CB_0959, "1424953923781206.2"),  // round to even
]

/// Further ECMAScript `Number.prototype.toString` results (checked in node), covering each layout rule.
let esNumberVectors: [(Double, String)] = [
    (1, "1"), (-2, "-2"), (0.5, "0.5"), (-0.0, "0"), (10, "10"), (123456789, "123456789"),
    (1e20, "100000000000000000000"), (1e21, "1e+21"), (1.5e21, "1.5e+21"), (123e18, "123000000000000000000"),
    (1e-6, "0.000001"), (1.5e-6, "0.0000015"), (1e-7, "1e-7"), (1.5e-7, "1.5e-7"), (0.1, "0.1"),
    (0.2 + 0.1, "0.30000000000000004"), (1e300, "1e+300"), (2.5e-300, "2.5e-300"), (4.5, "4.5"),
    (1e30, "1e+30"), (0.002, "0.002"), (1e-27, "1e-27"), (123.456, "123.456"), (-0.001, "-0.001"),
    (9007199254740992 + 1, "9007199254740992"), (9007199254740994, "9007199254740994"),
    (18446744073709551616, "18446744073709552000"), (1e16, "10000000000000000"), (1e15, "1000000000000000"),
    (2.2250738585072014e-308, "2.2250738585072014e-308"), (1.7976931348623157e308, "1.7976931348623157e+308"),
    (0.000123, "0.000123"), (1234.5e-10, "1.2345e-7"), (100, "100"), (12.5e1, "125"),
    (1714566896, "1714566896"), (-1714566896.25, "-1714566896.25"),
    (1.2345678901234568e29, "1.2345678901234568e+29"),
]

@Suite struct NumberTests {
    @Test func rfc8785AppendixB() throws {
        for (bits, expected) in rfc8785NumberVectors {
            let d = Double(bitPattern: bits)
            #expect(try CanonicalJSON.formatNumber(d) == expected, "bits \(String(bits, radix: 16))")
        }
    }

    @Test func ecmaScriptLayout() throws {
        for (d, expected) in esNumberVectors {
            #expect(try CanonicalJSON.formatNumber(d) == expected, "\(d)")
        }
    }

    @Test func writeNumberAppends() throws {
        var out = Array("x:".utf8)
        try CanonicalJSON.writeNumber(1e21, into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "x:1e+21")
    }

    @Test func nonFiniteRejected() {
        for d in [Double.nan, .infinity, -.infinity, -Double.nan, .signalingNaN] {
            #expect(throws: CanonicalJSONError.self) { try CanonicalJSON.formatNumber(d) }
            #expect(throws: CanonicalJSONError.self) { try CanonicalJSON.serialize(.array([1, .number(d)])) }
        }
        do {
            _ = try CanonicalJSON.formatNumber(.nan)
            Issue.record("expected a throw")
        } catch let error as CanonicalJSONError {
            #expect(error.message.contains("NaN"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func failedWriteLeavesBufferUntouched() {
        var out = Array("prefix".utf8)
        #expect(throws: CanonicalJSONError.self) {
            try CanonicalJSON.write(["a": "b", "c": [1, 2, .number(.infinity)]], into: &out)
        }
        #expect(out == Array("prefix".utf8))
    }

    /// Every canonical number text parses back to the same bits (except -0, which becomes 0),
    /// and uses an exponent exactly when the magnitude is below 1e-6 or at least 1e21.
    @Test func randomRoundTrip() throws {
        var rng = SplitMix64(seed: 0xC0FFEE)
        let parser = JSONParser()
        for i in 0..<20_000 {
            let bits: UInt64
            switch i % 3 {
            case 0: bits = rng.next()
            case 1: bits = Double(Int64(bitPattern: rng.next()) >> Int64(rng.next() % 63)).bitPattern
            default: bits = (Double(rng.next() % 1_000_000) / Double(1 << (rng.next() % 30))).bitPattern
            }
            let d = Double(bitPattern: bits)
            guard d.isFinite else { continue }
            let text = try CanonicalJSON.formatNumber(d)
            let back = try parser.parse(text).doubleValue
            #expect(back == d, "\(text) from \(String(bits, radix: 16))")
            if d != 0 { #expect(back?.bitPattern == d.bitPattern) }
            let magnitude = d.magnitude
            if magnitude != 0 {
                #expect(text.contains("e") == (magnitude < 1e-6 || magnitude >= 1e21), "\(text)")
            }
        }
    }

    @Test func parserNumberValues() throws {
        let parser = JSONParser()
        let cases: [(String, Double)] = [
            ("0", 0), ("-0", 0), ("1", 1), ("-1", -1), ("1.5", 1.5), ("1e2", 100), ("1E+2", 100), ("1e-2", 0.01),
            ("123456789012345678901234567890", 1.2345678901234568e29), ("0.1", 0.1), ("2.5e-3", 0.0025),
            ("9007199254740993", 9007199254740992), ("1.7976931348623157e308", .greatestFiniteMagnitude),
            ("5e-324", .leastNonzeroMagnitude), ("1e-400", 0), ("0e99999999999", 0), ("-0.0", 0),
            ("0.30000000000000004", 0.30000000000000004), ("333333333.33333329", 333333333.3333333),
            ("0.000000000000000000000000001", 1e-27), ("4.50", 4.5), ("1E30", 1e30),
            ("18446744073709551615", 18446744073709551616), ("9223372036854775807", 9223372036854775808),
            ("0.0000000000000000000000000000000000000001", 1e-40), ("100000000000000000000000", 1e23),
        ]
        for (text, expected) in cases {
            #expect(try parser.parse(text).doubleValue == expected, "\(text)")
        }
        #expect(try parser.parse("-0").doubleValue?.sign == .minus)
    }
}
