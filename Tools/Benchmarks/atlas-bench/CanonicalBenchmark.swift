import CanonicalJSON
import Foundation

/// `atlas-bench canonical [--objects 1000] [--rounds 100] [--trials 3]`
///
/// Canonicalizes ~560-byte Graph-like objects (members in Graph's order, which is not RFC 8785
/// order) and prints objects/s for: the tree path (`JSONParser` into a `JSONValue`, then
/// `CanonicalJSON.serialize`), the transcoder (`CanonicalJSON.canonicalize(_:limits:into:)`
/// into a reused buffer, and the allocating `canonicalize(_:)`), and `JSONObjectScanner`
/// reading every member of the canonical bytes (decoding the `id` string). Each figure is the
/// best of `--trials` runs of `--rounds` passes over the objects.
enum CanonicalBenchmark {
    static let usage = "canonical [--objects 1000] [--rounds 100] [--trials 3]"

    static func run(_ args: [String]) async throws -> Int32 {
        let count = Bench.option(args, "objects", default: 1000)
        let rounds = Bench.option(args, "rounds", default: 100)
        let trials = Bench.option(args, "trials", default: 3)
        let objects = (0..<count).map { Array(graphObject($0).utf8) }
        let canonical = try objects.map { try CanonicalJSON.serialize(JSONParser().parse($0)) }
        // The paths must agree before their speeds mean anything.
        var out: [UInt8] = []
        for (input, expected) in zip(objects, canonical) {
            out.removeAll(keepingCapacity: true)
            try input.withUnsafeBytes { try CanonicalJSON.canonicalize($0, into: &out) }
            guard out == expected else {
                print("canonical: transcoder output differs for \(String(decoding: input, as: UTF8.self))")
                return 1
            }
        }
        let total = count * rounds
        let averageBytes = Double(objects.reduce(0) { $0 + $1.count }) / Double(count)
        print(String(format: "canonical: %d Graph-like objects (%.0f bytes on average, keys unsorted) × %d rounds, best of %d",
                     count, averageBytes, rounds, trials))

        var sink = 0
        func measure(_ label: String, _ body: () throws -> Void) async rethrows -> Double {
            var best = Double.infinity
            for _ in 0..<trials { best = min(best, try await Bench.time { for _ in 0..<rounds { try body() } }) }
            let rate = Double(total) / best
            print("  " + label.padding(toLength: 46, withPad: " ", startingAt: 0)
                  + String(format: "%10.0f objects/s  %6.2f µs/object", rate, 1e6 / rate))
            return rate
        }
        let tree = try await measure("parse + serialize (JSONValue tree)") {
            for o in objects { sink &+= try CanonicalJSON.serialize(JSONParser().parse(o)).count }
        }
        let transcoder = try await measure("canonicalize(_:into:) (transcoder)") {
            for o in objects {
                out.removeAll(keepingCapacity: true)
                try o.withUnsafeBytes { try CanonicalJSON.canonicalize($0, into: &out) }
                sink &+= out.count
            }
        }
        let allocating = try await measure("canonicalize(_:) (transcoder, new array)") {
            for o in objects { sink &+= try CanonicalJSON.canonicalize(o).count }
        }
        let scanner = await measure("JSONObjectScanner (all members, id decoded)") {
            for c in canonical {
                c.withUnsafeBytes { bytes in
                    var scanner = JSONObjectScanner(bytes)
                    while let member = scanner.next() {
                        sink &+= member.value.count
                        if JSONObjectScanner.keyEquals(bytes, member.key, "id") {
                            sink &+= JSONObjectScanner.string(bytes, member.value).utf8.count
                        }
                    }
                }
            }
        }
        print(String(format: "  transcoder: %.1f× the tree path (%.1f× allocating); scanner: %.1f×", transcoder / tree, allocating / tree, scanner / tree))
        if sink == 42 { print("") }  // keeps the work observable
        return 0
    }

    /// A deviceConfiguration-like object of about 560 bytes, members in Graph's order.
    static func graphObject(_ i: Int) -> String {
        var h = UInt64(truncatingIfNeeded: i) &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 29
        let hexDigits = String(h, radix: 16).padding(toLength: 16, withPad: "0", startingAt: 0)
        let g = Array(hexDigits + hexDigits.reversed())
        let guid = "\(String(g[0..<8]))-\(String(g[8..<12]))-\(String(g[12..<16]))-\(String(g[16..<20]))-\(String(g[20..<32]))"
        let settings = (0..<(5 + i % 5)).map { #"{"key":"setting\#($0)","value":\#(($0 * 7 + i) % 13)}"# }.joined(separator: ",")
        return ##"{"@odata.type":"#microsoft.graph.windows10GeneralConfiguration","id":"\##(guid)","displayName":"Policy \##(i)","##
            + #""description":"Baseline policy \#(i) managed by the platform team","createdDateTime":"2024-03-01T10:00:00Z","#
            + #""lastModifiedDateTime":"2025-06-01T12:30:00Z","roleScopeTagIds":["0","12"],"version":\#(i % 7 + 1),"#
            + #""passwordRequired":\#(i % 2 == 0),"passwordMinimumLength":\#(6 + i % 8),"settings":[\#(settings)]}"#
    }
}
