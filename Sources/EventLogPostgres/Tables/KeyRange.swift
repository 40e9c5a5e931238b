import EventLog
import NIOCore
import PostgresNIO

/// The rows of one scan of ``KeyValueReader/scan(_:prefix:from:reverse:_:)`` as a range of
/// `bytea` keys, which PostgreSQL compares bytewise: a prefix is the range from the prefix to
/// its successor.
struct KeyRange {
    /// The first key (inclusive) and the bound past the last one.
    var lower: [UInt8]
    var lowerInclusive: Bool
    var upper: [UInt8]?
    var upperInclusive: Bool
    let prefix: [UInt8]
    let reverse: Bool

    init(prefix: [UInt8], from start: [UInt8]?, reverse: Bool) {
        self.prefix = prefix
        self.reverse = reverse
        if reverse {
            lower = prefix
            lowerInclusive = true
            if let start {
                upper = start
                upperInclusive = true
            } else {
                upper = Self.successor(prefix)
                upperInclusive = false
            }
        } else {
            lower = start ?? prefix
            lowerInclusive = true
            upper = Self.successor(prefix)
            upperInclusive = false
        }
    }

    /// The smallest key greater than every key starting with `prefix`; `nil` when there is
    /// none (an empty prefix or one of only 0xFF bytes).
    static func successor(_ prefix: [UInt8]) -> [UInt8]? {
        var s = prefix
        while let last = s.last {
            if last < 0xFF {
                s[s.count - 1] = last + 1
                return s
            }
            s.removeLast()
        }
        return nil
    }

    /// Whether `key` is inside the range (the bounds and the prefix).
    func contains(_ key: [UInt8]) -> Bool {
        guard key.starts(with: prefix) else { return false }
        if key.lexicographicallyPrecedes(lower) || (!lowerInclusive && key == lower) { return false }
        if let upper {
            if upper.lexicographicallyPrecedes(key) || (!upperInclusive && key == upper) { return false }
        }
        return true
    }

    /// Visits the stored rows of table `tbl` in the range, in order, a page at a time, until
    /// `body` returns `false`. Rows whose key does not start with the prefix end the scan.
    /// Pages start at `page` rows and double up to `maxPage`: a scan that stops early reads
    /// little, a long one takes few round trips.
    func forEachStored(_ session: PostgresSession, tbl: Int32, page first: Int = 256, maxPage: Int = 16_384,
                       _ body: (_ key: [UInt8], _ value: [UInt8]) throws -> Bool) throws {
        var r = self
        var page = first
        while true {
            let lo = ByteBuffer(bytes: r.lower)
            let hi = r.upper.map { ByteBuffer(bytes: $0) }
            let rows: [PostgresRow]
            let op1 = r.lowerInclusive ? ">=" : ">"
            let op2 = r.upperInclusive ? "<=" : "<"
            let order = reverse ? "DESC" : "ASC"
            if let hi {
                rows = try session.query("""
                    SELECT key, value FROM atlas.kv WHERE tbl = \(tbl) AND key \(unescaped: op1) \(lo) AND key \(unescaped: op2) \(hi)
                    ORDER BY key \(unescaped: order) LIMIT \(page)
                    """)
            } else {
                rows = try session.query("""
                    SELECT key, value FROM atlas.kv WHERE tbl = \(tbl) AND key \(unescaped: op1) \(lo)
                    ORDER BY key \(unescaped: order) LIMIT \(page)
                    """)
            }
            var last: [UInt8]?
            for row in rows {
                let (k, v) = try row.decode((ByteBuffer, ByteBuffer).self)
                let key = Array(k.readableBytesView)
                guard key.starts(with: prefix) else { return }
                if try !body(key, Array(v.readableBytesView)) { return }
                last = key
            }
            guard rows.count == page, let last else { return }
            page = min(page * 2, maxPage)
            if reverse {
                r.upper = last
                r.upperInclusive = false
            } else {
                r.lower = last
                r.lowerInclusive = false
            }
        }
    }
}
