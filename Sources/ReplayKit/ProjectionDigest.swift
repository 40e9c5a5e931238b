import Crypto
package import EventLog
import Foundation

/// A digest of one projection's tables: SHA-256 over every table (in the projection's
/// `tableNames` order) and, within it, every key/value pair in key order, each framed as
/// `len(name) name` then `len(key) key len(value) value` with 4-byte big-endian lengths.
/// Generations are not part of it, so a rebuilt projection digests the same as the original.
package struct ProjectionDigest: Sendable, Hashable {
    package var projection: String
    package var hex: String
    /// Entries per table.
    package var entries: [String: Int]

    /// Digests `projection` in the snapshot `reader` (one read transaction).
    package static func compute(_ projection: any Projection, in reader: any KeyValueReader) throws -> ProjectionDigest {
        var hasher = SHA256()
        var entries: [String: Int] = [:]
        func frame(_ count: Int) {
            var be = UInt32(count).bigEndian
            withUnsafeBytes(of: &be) { hasher.update(bufferPointer: $0) }
        }
        for t in projection.tableNames {
            let name = Array(t.utf8)
            frame(name.count)
            name.withUnsafeBytes { hasher.update(bufferPointer: $0) }
            var n = 0
            try reader.scan(.projection(projection.name, t), prefix: []) { k, v in
                frame(k.count)
                hasher.update(bufferPointer: k)
                frame(v.count)
                hasher.update(bufferPointer: v)
                n += 1
                return true
            }
            entries[t] = n
        }
        return ProjectionDigest(projection: projection.name, hex: Hex.encode(Array(hasher.finalize())), entries: entries)
    }

    /// Digests of every projection of `store`, in one read transaction.
    package static func all(of store: any EventStore, projections: [any Projection]) throws -> [ProjectionDigest] {
        try store.read { r in try projections.map { try compute($0, in: r) } }
    }

    /// The first key at which table `table` differs between two snapshots, with a description,
    /// or `nil` when the tables are equal. Pages through both tables in key order.
    package static func firstDifference(_ table: StoreTable, _ a: any KeyValueReader, _ b: any KeyValueReader) throws -> (key: [UInt8], what: String)? {
        var start: [UInt8]? = nil
        while true {
            let pa = try page(table, a, after: start)
            let pb = try page(table, b, after: start)
            for i in 0..<max(pa.count, pb.count) {
                guard i < pa.count else { return (pb[i].0, "only in the rebuilt projection") }
                guard i < pb.count else { return (pa[i].0, "only in the live projection") }
                if pa[i].0 != pb[i].0 {
                    return pa[i].0.lexicographicallyPrecedes(pb[i].0)
                        ? (pa[i].0, "only in the live projection") : (pb[i].0, "only in the rebuilt projection")
                }
                if pa[i].1 != pb[i].1 { return (pa[i].0, "values differ") }
            }
            if pa.count < pageSize && pb.count < pageSize { return nil }
            start = pa.last?.0
        }
    }

    static let pageSize = 1024

    static func page(_ table: StoreTable, _ r: any KeyValueReader, after: [UInt8]?) throws -> [([UInt8], [UInt8])] {
        var out: [([UInt8], [UInt8])] = []
        try r.scan(table, prefix: [], from: after, reverse: false) { k, v in
            if let after, k.elementsEqual(after) { return true }
            out.append((Array(k), Array(v)))
            return out.count < pageSize
        }
        return out
    }

    /// A printable form of a key: text where it is printable, `\xNN` elsewhere.
    package static func describe(_ key: [UInt8]) -> String {
        var s = ""
        for b in key {
            if b >= 0x20 && b < 0x7F && b != 0x5C { s.unicodeScalars.append(UnicodeScalar(b)) } else {
                s += "\\x" + Hex.encode([b])
            }
        }
        return s
    }
}

extension ProjectionDigest {
    /// Digests of `projections` read in one transaction whose log head is known: retries (up to
    /// `attempts` times) until the head read before the transaction is still the head inside it.
    /// Returns the head and digests, or `nil` digests' head when the log kept moving.
    package static func atHead(_ store: any EventStore, projections: [any Projection], attempts: Int = 5) throws -> (head: UInt64?, digests: [ProjectionDigest]) {
        var last: [ProjectionDigest] = []
        for _ in 0..<max(1, attempts) {
            let head = try store.head().position
            let result = try store.read { r -> [ProjectionDigest]? in
                if try r.rawEvent(at: head + 1) != nil { return nil }
                return try projections.map { try compute($0, in: r) }
            }
            if let result { return (head, result) }
            last = try all(of: store, projections: projections)
        }
        return (nil, last)
    }
}
