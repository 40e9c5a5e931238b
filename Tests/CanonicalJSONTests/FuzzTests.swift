import AtlasTesting
import Testing
@testable import CanonicalJSON

/// Deterministic fuzzing: the parser must never trap or hang, every rejection must carry an
/// offset inside the input, and everything it accepts must canonicalize idempotently.
@Suite struct FuzzTests {
    static let seeds: [String] = [
        #"{"v":1,"seq":1234567,"type":"device.upserted","ts":"2024-05-01T12:34:56.789Z","data":{"deviceId":"a1","name":"LAPTOP-42","compliant":true,"lastSync":1714566896,"owner":null,"tags":["x","y"]}}"#,
        #"[0,-0,1.5,-2e-7,1E+21,123456789012345678901234567890,0.000001,5e-324,1.7976931348623157e308]"#,
        #"{"\u20ac":"\ud83d\ude00","\r":"\u0000\u001f\"\\\/\b\f\n\r\t","é":"€😀","":[[],{}]}"#,
        #"[true,false,null,"abc",{"a":{"b":{"c":[1,{"d":[]}]}}}]"#,
        " \t\n\r[ 1 , { \"k\" : \"v\" } ] \n",
    ]

    static let alphabet: [UInt8] = Array(#"{}[],:"\/-+.eE0123456789 tfnrulasbu"#.utf8) + [0x00, 0x0A, 0x1F, 0x7F, 0x80, 0xBF, 0xC2, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xED, 0xA0, 0xF0, 0x9F, 0x98, 0xF4, 0x90, 0xFF]

    @Test func mutatedAndRandomInputs() throws {
        var rng = SplitMix64(seed: 0x5EED_1234)
        let limits = JSONLimits(maxDepth: 32, maxStringBytes: 256, maxInputBytes: 4096)
        let parser = JSONParser(limits: limits)
        var accepted = 0, rejected = 0
        for round in 0..<6_000 {
            var input: [UInt8]
            if round % 4 == 0 {
                // Random bytes from a JSON-flavoured alphabet.
                input = (0..<Int(rng.next() % 40)).map { _ in Self.alphabet[Int(rng.next() % UInt64(Self.alphabet.count))] }
            } else {
                input = Array(Self.seeds[Int(rng.next() % UInt64(Self.seeds.count))].utf8)
                for _ in 0...Int(rng.next() % 4) { mutate(&input, &rng) }
            }
            do {
                let value = try parser.parse(input)
                accepted += 1
                let canonical = try CanonicalJSON.serialize(value)
                let reparsed = try JSONParser().parse(canonical)
                #expect(reparsed == value, "\(hex(input))")
                #expect(try CanonicalJSON.serialize(reparsed) == canonical, "\(hex(input))")
            } catch let error as JSONParseError {
                rejected += 1
                #expect(error.offset >= 0 && error.offset <= max(input.count, limits.maxInputBytes), "\(hex(input)): \(error)")
                #expect(!error.message.isEmpty)
            }
        }
        // Both outcomes must be exercised for the fuzzing to mean anything.
        #expect(accepted > 300)
        #expect(rejected > 300)
    }

    private func mutate(_ input: inout [UInt8], _ rng: inout SplitMix64) {
        let choice = rng.next() % 6
        let position = input.isEmpty ? 0 : Int(rng.next() % UInt64(input.count))
        switch choice {
        case 0 where !input.isEmpty:  // replace a byte
            input[position] = Self.alphabet[Int(rng.next() % UInt64(Self.alphabet.count))]
        case 1:  // insert a byte
            input.insert(Self.alphabet[Int(rng.next() % UInt64(Self.alphabet.count))], at: position)
        case 2 where !input.isEmpty:  // delete a byte
            input.remove(at: position)
        case 3:  // truncate
            input.removeSubrange(position...)
        case 4 where !input.isEmpty:  // duplicate a span
            let end = min(input.count, position + Int(rng.next() % 16) + 1)
            input.insert(contentsOf: input[position..<end], at: position)
        case 5 where !input.isEmpty:  // flip a bit
            input[position] ^= UInt8(1) << (rng.next() % 8)
        default:
            input.append(Self.alphabet[Int(rng.next() % UInt64(Self.alphabet.count))])
        }
    }

    /// Random `JSONValue` trees serialize, parse back equal and canonicalize idempotently.
    @Test func randomValueTrees() throws {
        var rng = SplitMix64(seed: 99)
        let parser = JSONParser()
        for _ in 0..<1_000 {
            let value = randomValue(&rng, depth: 0)
            let bytes = try CanonicalJSON.serialize(value)
            let back = try parser.parse(bytes)
            #expect(back == value)
            #expect(try CanonicalJSON.canonicalize(bytes) == bytes)
            #expect(value.description == String(decoding: bytes, as: UTF8.self))
        }
    }

    private func randomValue(_ rng: inout SplitMix64, depth: Int) -> JSONValue {
        let pick = rng.next() % (depth > 4 ? 5 : 7)
        switch pick {
        case 0: return .null
        case 1: return .bool(rng.next() & 1 == 0)
        case 2:
            let d = Double(bitPattern: rng.next())
            return .number(d.isFinite ? d : Double(Int64(bitPattern: rng.next()) >> 20))
        case 3: return .number(Double(Int(rng.next() % 2_000_001) - 1_000_000) / Double([1, 10, 100, 1000][Int(rng.next() % 4)]))
        case 4: return .string(randomString(&rng))
        case 5: return .array((0..<Int(rng.next() % 5)).map { _ in randomValue(&rng, depth: depth + 1) })
        default:
            var o: [String: JSONValue] = [:]
            for _ in 0..<Int(rng.next() % 6) { o[randomString(&rng)] = randomValue(&rng, depth: depth + 1) }
            return .object(o)
        }
    }

    private func randomString(_ rng: inout SplitMix64) -> String {
        let pool: [Unicode.Scalar] = ["a", "b", "\"", "\\", "/", "\n", "\u{0}", "\u{1F}", "\u{7F}", "é", "€", "\u{2028}", "\u{E000}", "\u{FFFF}", "😀", "\u{10FFFF}"]
        var s = ""
        for _ in 0..<Int(rng.next() % 8) { s.unicodeScalars.append(pool[Int(rng.next() % UInt64(pool.count))]) }
        return s
    }
}
