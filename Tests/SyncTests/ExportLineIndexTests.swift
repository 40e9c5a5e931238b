import AtlasTesting
import CanonicalJSON
import Foundation
import Inventory
@testable import Sync
import Testing

/// An item line is read from the transcoder's member index (one pass over the line); the result
/// must be what a plain reading of the line gives: a parse into a tree.
@Suite struct ExportLineIndexTests {
    /// What the line means when read as a tree: an item line's policy type and canonical item,
    /// or `nil` for any other line (valid or not).
    static func reference(_ bytes: [UInt8]) -> (String, [UInt8])? {
        guard case .object(let line)? = try? JSONParser(limits: ExportLine.limits).parse(bytes), line.count == 2,
              case .string(let type)? = line["policy_type"], case .object? = line["item"], let item = line["item"]
        else { return nil }
        return (type, try! CanonicalJSON.serialize(item))
    }

    /// Parses `bytes` as the offline source does, with the members the index hands over.
    static func parsed(_ bytes: [UInt8]) -> Result<(String, [UInt8], [JSONObjectScanner.Member]?)?, ExportLine.Error> {
        var scratch: [UInt8] = []
        return bytes.withUnsafeBytes { b in
            Result { () throws(ExportLine.Error) -> (String, [UInt8], [JSONObjectScanner.Member]?)? in
                switch try ExportLine.parse(b, scratch: &scratch, item: { type, item, members in (type, Array(item), members.map(Array.init)) }) {
                case .item(let x): x
                case .other: nil
                }
            }
        }
    }

    static func check(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        let expected = reference(bytes)
        switch parsed(bytes) {
        case .success(let got?):
            #expect(expected?.0 == got.0 && expected?.1 == got.1, "\(text)", sourceLocation: sourceLocation)
            if let members = got.2 {
                #expect(members == CanonicalMembersIndex.scanned(got.1), "\(text)", sourceLocation: sourceLocation)
            }
            return got.2 != nil
        case .success(nil), .failure:
            #expect(expected == nil, "\(text)", sourceLocation: sourceLocation)
            return false
        }
    }

    @Test func itemLinesInAnyLayoutReadAsTheirTree() {
        var indexed = 0
        let items = [
            ##"{"id":"a1","displayName":"Baseline","settings":{"x":[1,2,{"y":null,"a":1}]},"@odata.type":"#x"}"##,
            #"{"name":"\u00e9\ud83d\ude00","n":-1.5e3,"id":"b2","roleScopeTagIds":["0","1"]}"#,
            #"{"id":"c3"}"#, #"{}"#, #"{ "b" : { } , "a" : [ ] }"#,
        ]
        for item in items {
            for layout in 0..<4 {
                let type = #""deviceConfiguration""#
                let line = switch layout {
                case 0: #"{"policy_type":\#(type),"item":\#(item)}"#
                case 1: #"{"item":\#(item),"policy_type":\#(type)}"#
                case 2: #"  { "item" :\#(item) ,"policy_type"  : \#(type)}  "#
                default: #"{"\u0069tem":\#(item),"policy_type":"device\u0043onfiguration"}"#
                }
                if Self.check(Array(line.utf8)) { indexed += 1 }
            }
        }
        #expect(indexed == items.count * 4)
        // Lines that are not plain item lines: read by the general path, the same way.
        let others = [
            #"{"policy_type":"deviceConfiguration","item":{"id":"a"},"extra":1}"#,
            #"{"policy_type":"deviceConfiguration","policy_type":"x","item":{"id":"a"}}"#,
            #"{"policy_type":1,"item":{"id":"a"}}"#, #"{"policy_type":"x","item":[1]}"#, #"{"policy_type":"x","failed":{"code":"c"}}"#,
            #"{"policy_type":"x","item":{"id":"a","id":"b"}}"#, #"[{"policy_type":"x","item":{}}]"#, #"{"policy_type":"x"}"#,
        ]
        for line in others { #expect(!Self.check(Array(line.utf8)), "\(line)") }
    }

    @Test func mutatedLinesReadAsTheirTree() {
        var m = HostileMutator(seed: 0x1D5EED, nesting: UInt8(ascii: "{"),
                               tokens: ["1e999999", "-0", "true", "null", #""item""#, #""policy_type""#, "{}", #""é""#])
        var indexed = 0
        for i in 0..<6000 {
            if Self.check(m.mutate(Array(ExportLineHostileInputTests.lines[i % ExportLineHostileInputTests.lines.count].utf8))) {
                indexed += 1
            }
        }
        #expect(indexed > 100)
    }
}

/// The members the scanner reads from an object text.
enum CanonicalMembersIndex {
    static func scanned(_ bytes: [UInt8]) -> [JSONObjectScanner.Member] {
        bytes.withUnsafeBytes { b in
            var scanner = JSONObjectScanner(b)
            var out: [JSONObjectScanner.Member] = []
            while let m = scanner.next() { out.append(m) }
            return out
        }
    }
}
