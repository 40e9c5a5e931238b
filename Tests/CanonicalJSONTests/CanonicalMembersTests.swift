import AtlasTesting
import Testing
@testable import CanonicalJSON

/// `withCanonicalMembers(of:limits:_:)`: the same validation as `canonicalize`, every value
/// canonical, the top-level members in input order, and an index that matches what the
/// scanner reads from the output.
@Suite struct CanonicalMembersTests {
    /// What `withCanonicalMembers` gives for `bytes`, copied out: the output, the top-level
    /// members, and for each the nested index (`nil` when the value is not an object).
    struct Indexed {
        var bytes: [UInt8]
        var isObject: Bool
        var members: [JSONObjectScanner.Member]
        var nested: [[JSONObjectScanner.Member]?]
    }

    static func indexed(_ bytes: [UInt8], limits: JSONLimits = .default) -> Result<Indexed, JSONParseError> {
        do {
            return .success(try bytes.withUnsafeBytes { b in
                try CanonicalJSON.withCanonicalMembers(of: b, limits: limits) { c in
                    Indexed(bytes: Array(c.bytes), isObject: c.isObject, members: Array(c.members),
                            nested: c.members.indices.map { c.members(ofValueAt: $0).map(Array.init) })
                }
            })
        } catch let error as JSONParseError {
            return .failure(error)
        } catch {
            return .failure(JSONParseError(offset: -1, message: "unexpected error \(error)"))
        }
    }

    static func scanned(_ bytes: some Collection<UInt8>) -> [JSONObjectScanner.Member] {
        Array(bytes).withUnsafeBytes { b in
            var scanner = JSONObjectScanner(b)
            var out: [JSONObjectScanner.Member] = []
            while let m = scanner.next() { out.append(m) }
            return out
        }
    }

    /// Checks `bytes` against `canonicalize`; returns whether it was accepted.
    @discardableResult
    static func expectConsistent(_ bytes: [UInt8], limits: JSONLimits = .default,
                                 sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        switch (transcoded(bytes, limits: limits, sourceLocation: sourceLocation), indexed(bytes, limits: limits)) {
        case (.failure(let a), .failure(let b)):
            #expect(a == b, "\(text)", sourceLocation: sourceLocation)
            return false
        case (.success(let canonical), .success(let x)):
            // Sorting the top level of the output gives the canonical form.
            #expect((try? transcoded(x.bytes).get()) == canonical, "\(text)", sourceLocation: sourceLocation)
            #expect(x.isObject == (canonical.first == UInt8(ascii: "{")), "\(text)", sourceLocation: sourceLocation)
            guard x.isObject else {
                #expect(x.bytes == canonical && x.members.isEmpty, "\(text)", sourceLocation: sourceLocation)
                return true
            }
            // The index is what the scanner reads, top level in input order.
            #expect(x.members == scanned(x.bytes), "\(text)", sourceLocation: sourceLocation)
            for (m, nested) in zip(x.members, x.nested) {
                let value = x.bytes[m.value]
                if value.first == UInt8(ascii: "{") {
                    #expect(nested == scanned(value), "\(text)", sourceLocation: sourceLocation)
                    // Each value is canonical on its own.
                    #expect((try? transcoded(Array(value)).get()) == Array(value), "\(text)", sourceLocation: sourceLocation)
                } else {
                    #expect(nested == nil, "\(text)", sourceLocation: sourceLocation)
                }
            }
            return true
        case (let a, let b):
            Issue.record("canonicalize and withCanonicalMembers disagree on \(text): \(a) vs \(b.map(\.bytes))", sourceLocation: sourceLocation)
            return false
        }
    }

    @Test func handCases() throws {
        let cases = [
            #"{"policy_type":"a","item":{"id":"1","b":[{"y":1,"x":2}],"a":{}}}"#,
            #" { "item" : { "z" : 1 , "\u0061" : "\u00e9" } , "policy_type" : "x" } "#,
            #"{"b":{},"a":{"k":1},"c":[],"d":"s","e":1e3,"f":{"\ud83d\ude00":1,"\uffff":2}}"#,
            #"{}"#, #"[{"b":1,"a":2}]"#, #""text""#, "12", #"{"a":{"b":{"d":1,"c":2}}}"#,
        ]
        for text in cases { #expect(Self.expectConsistent(Array(text.utf8)), "\(text)") }
        let x = try Self.indexed(Array(#"{"p":"t","item":{"id":"1","a":[1]}}"#.utf8)).get()
        #expect(String(decoding: x.bytes, as: UTF8.self) == #"{"p":"t","item":{"a":[1],"id":"1"}}"#)
        #expect(x.nested[0] == nil)
        #expect(x.nested[1] == [JSONObjectScanner.Member(key: 2..<3, value: 5..<8), JSONObjectScanner.Member(key: 10..<12, value: 14..<17)])
    }

    @Test func rejectsWhatCanonicalizeRejects() {
        let invalid = [
            #"{"a":1,"a":2}"#, #"{"z":1,"a":2,"z":3}"#, #"{"a":1,"\u0061":2}"#, #"{"b":{"x":1,"x":1}}"#, #"{"é":1,"e\u0301":2}"#,
            "", "{", #"{"a":}"#, "[1,]", #"{"a":1} x"#, #"{"a":"\x"}"#,
        ]
        for text in invalid {
            #expect(!Self.expectConsistent(Array(text.utf8)), "\(text)")
        }
        let limits = JSONLimits(maxDepth: 2, maxStringBytes: 8, maxInputBytes: 64)
        #expect(!Self.expectConsistent(Array(#"{"a":{"b":[1]}}"#.utf8), limits: limits))
        #expect(!Self.expectConsistent(Array(#"{"a":"123456789"}"#.utf8), limits: limits))
        #expect(!Self.expectConsistent(Array(repeating: UInt8(ascii: " "), count: 65), limits: limits))
    }

    @Test func randomTexts() {
        var gen = RandomJSONText(seed: 0x1DE7)
        var accepted = 0, objects = 0
        for i in 0..<6_000 {
            let text = i % 3 == 0 ? gen.document() : gen.objectDocument()
            if Self.expectConsistent(text) {
                accepted += 1
                if text.first(where: { $0 > 0x20 }) == UInt8(ascii: "{") { objects += 1 }
            }
        }
        #expect(accepted > 4_500 && objects > 3_000)
    }
}

/// A thread's transcoders reuse one workspace: transcodes nested in another's body, failed
/// ones, and ones larger than the workspace keeps all give the same results as fresh ones.
@Suite struct TranscoderWorkspaceTests {
    @Test func nestedFailedAndLargeTranscodesAgree() throws {
        let small = Array(#"{"b":{"y":1,"x":[2,{"q":1,"p":2}]},"a":"s"}"#.utf8)
        let large = Array(("{\"z\":\"" + String(repeating: "é", count: 400_000) + "\",\"y\":\"" + String(repeating: "x", count: 300_000)
            + "\",\"a\":[" + (0..<1000).map(String.init).joined(separator: ",") + "]}").utf8)  // over the 1 MiB kept
        let expectedSmall = try transcoded(small).get()
        let expectedLarge = try treeCanonical(large).get()
        for round in 0..<3 {
            let outer: [UInt8] = try small.withUnsafeBytes { b in
                try CanonicalJSON.withCanonicalMembers(of: b) { c in
                    // Inside the body, while the outer transcode holds the workspace.
                    #expect((try? transcoded(large).get()) == expectedLarge)
                    #expect((try? transcoded(Array(#"{"a":1,"a":2}"#.utf8)).get()) == nil)
                    #expect(Self.indexedMembers(small) == Self.indexedMembers(small))
                    return Array(c.bytes)
                }
            }
            #expect((try? transcoded(outer).get()) == expectedSmall, "round \(round)")
            #expect((try? transcoded(large).get()) == expectedLarge, "round \(round)")
            #expect((try? transcoded(Array("[1,".utf8)).get()) == nil)
            #expect((try? transcoded(small).get()) == expectedSmall, "round \(round)")
        }
    }

    static func indexedMembers(_ bytes: [UInt8]) -> [JSONObjectScanner.Member]? {
        try? bytes.withUnsafeBytes { b in try CanonicalJSON.withCanonicalMembers(of: b) { Array($0.members) } }
    }
}
