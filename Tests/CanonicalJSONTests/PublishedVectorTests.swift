import Testing
@testable import CanonicalJSON

/// The document vectors published in docs/canonical-json.md (expected outputs checked in node).
@Suite struct PublishedVectorTests {
    static let documents: [(input: String, canonicalHex: String)] = [
        (#"{"b":2,"a":1}"#, "7b2261223a312c2262223a327d"),
        (#"[1E30, 4.50, 2e-3, 1e-7, 0.000001, -0, 1e21, 1e20, 9007199254740993]"#,
         "5b31652b33302c342e352c302e3030322c31652d372c302e3030303030312c302c31652b32312c3130303030303030303030303030303030303030302c393030373139393235343734303939325d"),
        (#""\u00e9\u2028/\u001f\u007f""#, "22c3a9e280a82f5c75303031667f22"),
        (#"{"\ue000":1,"\ud800\udc00":2,"z":3}"#, "7b227a223a332c22f0908080223a322c22ee8080223a317d"),
        (#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#,
         "7b225c72223a2243617272696167652052657475726e222c2231223a224f6e65222c22c280223a22436f6e74726f6c222c22c3b6223a224c6174696e20536d616c6c204c6574746572204f205769746820446961657265736973222c22e282ac223a224575726f205369676e222c22f09f9880223a22456d6f6a693a204772696e6e696e672046616365222c22efacb3223a22486562726577204c65747465722044616c6574205769746820446167657368227d"),
    ]

    @Test func documentVectors() throws {
        for (input, canonicalHex) in Self.documents {
            #expect(hex(try CanonicalJSON.canonicalize(Array(input.utf8))) == canonicalHex, "\(input)")
        }
    }

    @Test func rfcStructuredExampleText() throws {
        let input = #"{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}"#
        #expect(try canonicalText(json: input) == #"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#)
    }

    @Test func nonFiniteBitPatterns() {
        #expect(throws: CanonicalJSONError.self) { try CanonicalJSON.formatNumber(Double(bitPattern: 0x7FF0_0000_0000_0000)) }
        #expect(throws: CanonicalJSONError.self) { try CanonicalJSON.formatNumber(Double(bitPattern: 0x7FFF_FFFF_FFFF_FFFF)) }
    }
}
