package import CanonicalJSON
package import EventLog
import Foundation

/// A signed statement of a store's head: "store `storeID` (format `formatVersion`) had, at
/// `position`, the chain hash `chain`". Kept outside the store, it pins the log: a rewrite of any
/// event at or before `position` changes the chain there, and a truncation below `position`
/// leaves no event to compare, so `atlas-replay verify --checkpoint` catches both.
///
/// The JSON object has exactly the fields `store_id`, `format_version`, `position`, `chain`,
/// `recorded_at`, `created_at`, `public_key` and `signature`; the signature is Ed25519 over the
/// RFC 8785 (canonical JSON) bytes of the object without `signature` (see
/// ``signingBytes``).
package struct Checkpoint: Sendable, Hashable {
    /// The store's id (`meta.store_id`).
    package var storeID: String
    /// The store's format (`meta.format_version`).
    package var formatVersion: Int
    /// The log position the checkpoint pins (the head when it was taken).
    package var position: UInt64
    /// The chain hash stored with the event at ``position``.
    package var chain: ChainHash
    /// That event's `recorded_at`.
    package var recordedAt: Timestamp
    /// When the checkpoint was taken.
    package var createdAt: Timestamp
    /// The Ed25519 public key that signed it (32 bytes).
    package var publicKey: [UInt8]
    /// The Ed25519 signature (64 bytes) over ``signingBytes``.
    package var signature: [UInt8]

    package init(storeID: String, formatVersion: Int, position: UInt64, chain: ChainHash, recordedAt: Timestamp,
                createdAt: Timestamp, publicKey: [UInt8], signature: [UInt8]) {
        self.storeID = storeID
        self.formatVersion = formatVersion
        self.position = position
        self.chain = chain
        self.recordedAt = recordedAt
        self.createdAt = createdAt
        self.publicKey = publicKey
        self.signature = signature
    }

    /// The field names of the JSON object, in canonical (sorted) order.
    package static let fields: Set<String> = ["store_id", "format_version", "position", "chain", "recorded_at",
                                             "created_at", "public_key", "signature"]

    /// The object without `signature`: what is signed.
    var unsignedJSON: [String: JSONValue] {
        ["store_id": .string(storeID), "format_version": .number(Double(formatVersion)),
         "position": .number(Double(position)), "chain": .string(chain.hex),
         "recorded_at": .string(recordedAt.description), "created_at": .string(createdAt.description),
         "public_key": .string(Hex.encode(publicKey))]
    }

    /// The checkpoint as a JSON object.
    package var json: JSONValue {
        var o = unsignedJSON
        o["signature"] = .string(Hex.encode(signature))
        return .object(o)
    }

    /// The RFC 8785 bytes of the object without `signature`: the bytes the signature covers.
    package var signingBytes: [UInt8] {
        // Strings of ASCII and integers below 2^53 always serialize.
        (try? CanonicalJSON.serialize(.object(unsignedJSON))) ?? []
    }

    /// The checkpoint as one line of canonical JSON with a trailing newline.
    package var fileBytes: [UInt8] {
        ((try? CanonicalJSON.serialize(json)) ?? []) + [0x0A]
    }

    /// Parses a checkpoint file's bytes.
    ///
    /// - Throws: ``CheckpointError`` naming the problem: not JSON, not an object, a missing or
    ///   extra field, a field of the wrong type, bad hex or a bad timestamp.
    package static func parse(_ bytes: [UInt8]) throws(CheckpointError) -> Checkpoint {
        let value: JSONValue
        do { value = try JSONParser().parse(bytes) } catch { throw CheckpointError("not valid JSON (\(error))") }
        guard let o = value.objectValue else { throw CheckpointError("not a JSON object") }
        let keys = Set(o.keys)
        if let missing = fields.subtracting(keys).sorted().first { throw CheckpointError("missing field \"\(missing)\"") }
        if let extra = keys.subtracting(fields).sorted().first { throw CheckpointError("unexpected field \"\(extra)\"") }
        func string(_ k: String) throws(CheckpointError) -> String {
            guard let s = o[k]?.stringValue else { throw CheckpointError("field \"\(k)\" must be a string") }
            return s
        }
        func integer(_ k: String) throws(CheckpointError) -> Int64 {
            guard let d = o[k]?.doubleValue, d >= 0, d <= 9_007_199_254_740_991, d.rounded() == d else {
                throw CheckpointError("field \"\(k)\" must be a non-negative integer")
            }
            return Int64(d)
        }
        func hex(_ k: String, bytes n: Int) throws(CheckpointError) -> [UInt8] {
            let s = try string(k)
            guard let b = Self.decodeHex(s), b.count == n else {
                throw CheckpointError("field \"\(k)\" must be \(2 * n) lowercase hex characters")
            }
            return b
        }
        func time(_ k: String) throws(CheckpointError) -> Timestamp {
            let s = try string(k)
            guard let t = Timestamp(rfc3339: s), t.description == s else {
                throw CheckpointError("field \"\(k)\" must be an RFC 3339 UTC time like 2026-01-31T12:00:00.000Z")
            }
            return t
        }
        let storeID = try string("store_id")
        guard !storeID.isEmpty else { throw CheckpointError("field \"store_id\" is empty") }
        let position = try integer("position")
        guard position >= 1 else { throw CheckpointError("field \"position\" must be at least 1") }
        let format = try integer("format_version")
        guard let chain = ChainHash(bytes: try hex("chain", bytes: 32)) else { throw CheckpointError("field \"chain\" is not a chain hash") }
        return Checkpoint(storeID: storeID, formatVersion: Int(format), position: UInt64(position), chain: chain,
                          recordedAt: try time("recorded_at"), createdAt: try time("created_at"),
                          publicKey: try hex("public_key", bytes: 32), signature: try hex("signature", bytes: 64))
    }

    /// The bytes of lowercase hex `text`, or `nil` when it is not lowercase hex of even length.
    package static func decodeHex(_ text: String) -> [UInt8]? {
        let u = Array(text.utf8)
        guard u.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let h = nibble(u[i]), let l = nibble(u[i + 1]) else { return nil }
            out.append(h << 4 | l)
            i += 2
        }
        return out
    }
}

/// A checkpoint file or key that cannot be used: bad input (exit 2).
package struct CheckpointError: Error, Sendable, CustomStringConvertible {
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}
