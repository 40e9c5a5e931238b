/// Rewrites JSON text into its RFC 8785 form without building a ``JSONValue`` tree: the engine
/// of ``CanonicalJSON/canonicalize(_:limits:into:)``.
///
/// Each value is validated and written straight to the output:
/// - literals, and integers of at most 15 digits without fraction or exponent, are copied
///   verbatim (`-0` becomes `0`); other numbers go through the parser's number conversion and
///   ``CanonicalJSON/writeNumber(_:into:)``;
/// - strings without escapes are validated and copied verbatim (their canonical form is the
///   same bytes); strings with escapes are decoded and re-escaped by
///   ``CanonicalJSON/writeString(utf8:into:)``;
/// - object members are written in input order while each key is compared with the previous
///   one (mostly as one 8-byte word); only an object whose keys were not already in RFC 8785
///   order is sorted, by copying its written `"key":value` segments in key order past the end of
///   the output and moving them back over the object's body.
///
/// Validation is the parser's own: the cursor is a `_ParserState`, whose helpers check
/// literals, escapes, UTF-8, numbers and nesting, so the transcoder accepts exactly what
/// ``JSONParser`` accepts, duplicate keys included (byte-equal keys, and keys that Swift's
/// `String ==` deems canonically equivalent, as a `[String: JSONValue]` would).
struct CanonicalTranscoder: ~Copyable {
    /// The input cursor, limits and depth. Its `scratch` is the key arena: the decoded bytes of
    /// escaped keys of the objects being transcoded (and, briefly, of an escaped string value).
    var state: _ParserState
    /// The canonical text written so far. Output is never longer than the input, except where a
    /// number's canonical form is longer (`1e21` is `1e+21`), so it rarely grows.
    var out: RawBuffer<UInt8>
    /// The members of the objects being transcoded, innermost object last.
    var members: RawBuffer<Member>
    /// Where slow paths that write to an array (escaped strings, general numbers) write first.
    var spill: [UInt8] = []
    /// When set (see ``CanonicalJSON/withCanonicalMembers(of:limits:_:)``), the top-level
    /// object's members stay in input order (duplicates are still rejected) and its members,
    /// and those of the objects directly in it, are recorded in ``topMembers`` and ``nested``.
    var indexing = false
    /// The top-level object's members, in input order (kept when ``indexing``).
    var topMembers = RawBuffer<Member>()
    /// The members of the objects directly in the top-level object, each object's in canonical
    /// order, with ranges relative to the object's `{` (kept when ``indexing``).
    var nested = RawBuffer<Span>()
    /// For each object in ``nested``: where its text starts in ``out``, and its members there.
    var nestedObjects = RawBuffer<NestedObject>()

    /// A member's key (between its quotes) and value, as offsets.
    struct Span {
        var keyStart: Int, keyEnd: Int, valueStart: Int, valueEnd: Int

        var member: JSONObjectScanner.Member {
            JSONObjectScanner.Member(key: keyStart..<keyEnd, value: valueStart..<valueEnd)
        }
    }

    /// An object directly in the top-level object, as ``nested`` records it.
    struct NestedObject {
        var start: Int
        var first: Int
        var count: Int
    }

    /// One object member: its decoded key, and where its `"key":value` text went in the output.
    struct Member {
        /// Offset of the key's decoded UTF-8 in the input (between its quotes) or, when
        /// `keyInArena`, in `state.scratch`.
        var keyStart: Int
        var keyCount: Int
        var keyInArena: Bool
        /// The key's first eight bytes, big-endian, zero-padded: compares like the key would,
        /// up to those bytes (see ``prefixPrecedes(_:_:)``).
        var keyPrefix: UInt64
        /// Input offset of the key's opening quote, for error messages.
        var keyQuote: Int
        /// The member's text in `out`, without the separating comma, and where its value starts.
        var start: Int
        var end: Int
        var valueStart = 0

        /// The key (between its quotes) and value ranges of the member's text at `start`, less
        /// `origin`.
        func ranges(at start: Int, origin: Int) -> Span {
            let value = valueStart &- self.start &+ start &- origin
            return Span(keyStart: start &+ 1 &- origin, keyEnd: value &- 2, valueStart: value, valueEnd: end &- self.start &+ start &- origin)
        }
    }

    /// Writes the canonical form of the whole input to ``out``, or throws.
    mutating func run() throws(JSONParseError) {
        skipWhitespace()
        try value()
        skipWhitespace()
        if state.pos < state.end {
            throw unexpected(at: state.pos, " after the JSON value")
        }
    }

    // MARK: - Cursor

    @inline(__always)
    mutating func skipWhitespace() {
        // Canonical and compact input has none: test the common case first.
        if state.pos < state.end && state.base[state.pos] > 0x20 { return }
        state.skipWhitespace()
    }

    /// Appends input bytes `from..<to` to `out`.
    @inline(__always)
    mutating func copy(_ from: Int, _ to: Int) {
        out.append(bytes: state.base + from, count: to &- from)
    }

    /// Drops the key arena's bytes from `mark` on (`removeSubrange` would allocate even when
    /// there is nothing to drop).
    @inline(__always)
    mutating func truncateArena(to mark: Int) {
        if state.scratch.count > mark { state.scratch.removeSubrange(mark...) }
    }

    /// Appends `spill` to `out`, and empties it.
    mutating func flushSpill() {
        spill.withUnsafeBufferPointer { out.append($0) }
        spill.removeAll(keepingCapacity: true)
    }

    // MARK: - Values

    mutating func value() throws(JSONParseError) {
        guard state.pos < state.end else {
            throw state.fail(state.pos, "unexpected end of input, expected a JSON value")
        }
        let start = state.pos
        switch state.base[start] {
        case UInt8(ascii: "\""):
            try string()
        case UInt8(ascii: "{"):
            try object()
        case UInt8(ascii: "["):
            try array()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try number()
        case UInt8(ascii: "t"):
            try state.expectLiteral("true")
            copy(start, state.pos)
        case UInt8(ascii: "f"):
            try state.expectLiteral("false")
            copy(start, state.pos)
        case UInt8(ascii: "n"):
            try state.expectLiteral("null")
            copy(start, state.pos)
        default:
            // Not a value: the parser names the problem (NaN, '+1', '.5', a stray byte).
            _ = try state.parseValue()
            throw state.fail(start, "expected a JSON value")
        }
    }

    mutating func array() throws(JSONParseError) {
        try state.enter(state.pos)
        state.pos &+= 1
        out.append(UInt8(ascii: "["))
        skipWhitespace()
        if state.pos < state.end && state.base[state.pos] == UInt8(ascii: "]") {
            state.pos &+= 1
        } else {
            while true {
                skipWhitespace()
                try value()
                skipWhitespace()
                guard state.pos < state.end else {
                    throw state.fail(state.pos, "unexpected end of input in array, expected ',' or ']'")
                }
                let c = state.base[state.pos]
                state.pos &+= 1
                if c == UInt8(ascii: ",") {
                    out.append(UInt8(ascii: ","))
                    continue
                }
                if c == UInt8(ascii: "]") { break }
                throw unexpected(at: state.pos &- 1, " in array, expected ',' or ']'")
            }
        }
        out.append(UInt8(ascii: "]"))
        state.depth &-= 1
    }

    mutating func object() throws(JSONParseError) {
        try state.enter(state.pos)
        state.pos &+= 1
        out.append(UInt8(ascii: "{"))
        skipWhitespace()
        let depth = state.depth
        if state.pos < state.end && state.base[state.pos] == UInt8(ascii: "}") {
            state.pos &+= 1
            if indexing && depth == 2 { nestedObjects.append(NestedObject(start: out.count &- 1, first: nested.count, count: 0)) }
            out.append(UInt8(ascii: "}"))
            state.depth &-= 1
            return
        }
        let first = members.count
        let arenaMark = state.scratch.count
        let bodyStart = out.count
        var ordered = true  // every key so far follows the previous one
        var ascii = true    // every key so far is ASCII
        while true {
            skipWhitespace()
            guard state.pos < state.end, state.base[state.pos] == UInt8(ascii: "\"") else {
                throw unexpected(at: state.pos, " in object, expected a string key")
            }
            let keyQuote = state.pos
            let keyArenaStart = state.scratch.count
            let key = try scanString()
            let keyEnd = state.pos
            skipWhitespace()
            guard state.pos < state.end, state.base[state.pos] == UInt8(ascii: ":") else {
                throw unexpected(at: state.pos, " in object, expected ':'")
            }
            state.pos &+= 1
            skipWhitespace()

            var member = Member(keyStart: keyQuote &+ 1, keyCount: keyEnd &- keyQuote &- 2, keyInArena: false, keyPrefix: 0,
                                keyQuote: keyQuote, start: out.count, end: 0)
            if key.escaped {
                member.keyStart = keyArenaStart
                member.keyCount = state.scratch.count &- keyArenaStart
                member.keyInArena = true
                member.keyPrefix = state.scratch.withUnsafeBufferPointer { arena in
                    Self.prefix(UnsafeBufferPointer(rebasing: arena[keyArenaStart...]))
                }
                writeArenaString(from: keyArenaStart)
            } else {
                // The key is followed by at least its closing quote.
                member.keyPrefix = Self.prefix(state.base + member.keyStart, count: member.keyCount,
                                               readable: state.end &- member.keyStart)
                copy(keyQuote, keyEnd)
            }
            ascii = ascii && key.ascii
            out.append(UInt8(ascii: ":"))
            member.valueStart = out.count
            try value()
            member.end = out.count
            if ordered && members.count > first {
                ordered = precedes(members[members.count &- 1], member)
            }
            members.append(member)

            skipWhitespace()
            guard state.pos < state.end else {
                throw state.fail(state.pos, "unexpected end of input in object, expected ',' or '}'")
            }
            let c = state.base[state.pos]
            state.pos &+= 1
            if c == UInt8(ascii: ",") {
                out.append(UInt8(ascii: ","))
                continue
            }
            if c == UInt8(ascii: "}") { break }
            throw unexpected(at: state.pos &- 1, " in object, expected ',' or '}'")
        }
        let recording = indexing && depth == 2
        if recording { nestedObjects.append(NestedObject(start: bodyStart &- 1, first: nested.count, count: members.count &- first)) }
        if !ordered {
            try sortMembers(from: first, bodyStart: bodyStart, move: !(indexing && depth == 1), record: recording)
        } else if recording {
            for i in first..<members.count { nested.append(members[i].ranges(at: members[i].start, origin: bodyStart &- 1)) }
        }
        if !ascii {
            try checkEquivalentKeys(from: first)
        }
        if indexing && depth == 1 {
            topMembers.append(UnsafeBufferPointer(start: members.base + first, count: members.count &- first))
        }
        members.truncate(to: first)
        truncateArena(to: arenaMark)
        out.append(UInt8(ascii: "}"))
        state.depth &-= 1
    }

    @inline(__always)
    mutating func string() throws(JSONParseError) {
        let quote = state.pos
        let arenaStart = state.scratch.count
        if try scanString().escaped {
            writeArenaString(from: arenaStart)
            truncateArena(to: arenaStart)
        } else {
            copy(quote, state.pos)
        }
    }

    @inline(__always)
    mutating func number() throws(JSONParseError) {
        let base = state.base, end = state.end
        let start = state.pos
        var i = start
        if base[i] == UInt8(ascii: "-") { i &+= 1 }
        let digits = i
        while i < end && base[i] &- 0x30 < 10 { i &+= 1 }
        let count = i &- digits
        // A plain integer of at most 15 digits is exact in a Double and is its own canonical
        // form, unless it is -0 or has leading zeros (rejected by the general path).
        if count >= 1 && count <= 15 && !(count > 1 && base[digits] == UInt8(ascii: "0"))
            && (i == end || (base[i] != UInt8(ascii: ".") && base[i] | 0x20 != UInt8(ascii: "e"))) {
            if count == 1 && base[digits] == UInt8(ascii: "0") {
                out.append(UInt8(ascii: "0"))
            } else {
                copy(start, i)
            }
            state.pos = i
            return
        }
        try generalNumber()
    }

    /// Any other number: parsed as ``JSONParser`` parses it, written as ``CanonicalJSON`` writes it.
    @inline(never)
    mutating func generalNumber() throws(JSONParseError) {
        let start = state.pos
        let number = try state.parseNumber()
        do {
            try CanonicalJSON.writeNumber(number, into: &spill)
        } catch {
            // Unreachable: the parser returns finite numbers only.
            throw state.fail(start, "number out of range for a Double")
        }
        flushSpill()
    }

    // MARK: - Strings

    /// Scans the string whose opening quote is at the cursor, validating it, and moves past its
    /// closing quote. When the string has escapes, its decoded UTF-8 is appended to
    /// `state.scratch`; otherwise the bytes between the quotes are already decoded.
    mutating func scanString() throws(JSONParseError) -> (escaped: Bool, ascii: Bool) {
        let base = state.base, end = state.end
        let quote = state.pos
        var i = quote &+ 1
        var ascii = true
        while true {
            i = ByteScan.firstStringSpecial(base, from: i, end: end)
            guard i < end else { throw state.fail(quote, "unterminated string") }
            let c = base[i]
            if c == UInt8(ascii: "\"") { break }
            if c >= 0x80 {
                ascii = false
                i &+= try state.validateUTF8Sequence(at: i)
            } else if c == UInt8(ascii: "\\") {
                return (true, try decodeEscapedString(quote: quote, firstEscape: i))
            } else {
                throw controlCharacter(at: i)
            }
        }
        if i &- quote &- 1 > state.limits.maxStringBytes {
            throw stringTooLong(quote)
        }
        state.pos = i &+ 1
        return (false, ascii)
    }

    /// Finishes ``scanString()`` for a string with escapes, the first at `firstEscape`: appends
    /// the decoded UTF-8 to `state.scratch` and returns whether it is all ASCII.
    mutating func decodeEscapedString(quote: Int, firstEscape: Int) throws(JSONParseError) -> Bool {
        let base = state.base, end = state.end
        let mark = state.scratch.count
        let limit = state.limits.maxStringBytes
        var runStart = quote &+ 1
        var i = firstEscape
        while true {
            i = ByteScan.firstStringSpecial(base, from: i, end: end)
            guard i < end else { throw state.fail(quote, "unterminated string") }
            let c = base[i]
            if c == UInt8(ascii: "\"") { break }
            if c >= 0x80 {
                i &+= try state.validateUTF8Sequence(at: i)
            } else if c == UInt8(ascii: "\\") {
                state.scratch.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: i &- runStart))
                state.pos = i
                try state.parseEscape()
                i = state.pos
                runStart = i
                if state.scratch.count &- mark > limit {
                    throw stringTooLong(quote)
                }
            } else {
                throw controlCharacter(at: i)
            }
        }
        state.scratch.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: i &- runStart))
        if state.scratch.count &- mark > limit {
            throw stringTooLong(quote)
        }
        state.pos = i &+ 1
        return state.scratch[mark...].allSatisfy { $0 < 0x80 }
    }

    /// Appends the decoded string `state.scratch[from...]` as a canonical string literal.
    mutating func writeArenaString(from: Int) {
        state.scratch.withUnsafeBufferPointer { arena in
            CanonicalJSON.writeString(utf8: UnsafeBufferPointer(rebasing: arena[from...]), into: &spill)
        }
        flushSpill()
    }

    @inline(never)
    func controlCharacter(at i: Int) -> JSONParseError {
        let c = state.base[i]
        return state.fail(i, "unescaped control character U+00" + (c < 0x10 ? "0" : "") + String(c, radix: 16, uppercase: true) + " in string")
    }

    // MARK: - Errors (kept out of line: building messages is cold)

    /// `unexpected <byte><context>` at `offset`, e.g. `unexpected character 'x' in array, …`.
    @inline(never)
    func unexpected(at offset: Int, _ context: String) -> JSONParseError {
        state.fail(offset, "unexpected \(state.describeByte(at: offset))\(context)")
    }

    @inline(never)
    func stringTooLong(_ quote: Int) -> JSONParseError {
        state.fail(quote, "string longer than \(state.limits.maxStringBytes) bytes")
    }

    // MARK: - Keys

    /// The decoded key of `m`: in the input, or in `arena` (`state.scratch`'s storage).
    @inline(__always)
    static func key(_ m: Member, input: UnsafePointer<UInt8>, arena: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        if m.keyInArena {
            return UnsafeBufferPointer(rebasing: arena[m.keyStart..<(m.keyStart &+ m.keyCount)])
        }
        return UnsafeBufferPointer(start: input + m.keyStart, count: m.keyCount)
    }

    @inline(__always)
    static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        for i in 0..<a.count where a[i] != b[i] { return false }
        return true
    }

    /// The first (up to) eight of the `count` bytes at `start` as a big-endian word, zero-padded;
    /// `readable` bytes may be read from `start`.
    @inline(__always)
    static func prefix(_ start: UnsafePointer<UInt8>, count: Int, readable: Int) -> UInt64 {
        if readable >= 8 {
            let word = UInt64(bigEndian: UnsafeRawPointer(start).loadUnaligned(as: UInt64.self))
            return count >= 8 ? word : word & ~(UInt64.max >> (count &* 8))
        }
        return prefix(UnsafeBufferPointer(start: start, count: count))
    }

    /// The first (up to) eight bytes of `key` as a big-endian word, zero-padded.
    static func prefix(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var word: UInt64 = 0
        for i in 0..<min(key.count, 8) { word |= UInt64(key[i]) << (56 &- 8 &* i) }
        return word
    }

    /// RFC 8785 order of two different key prefixes: the order of their first differing bytes,
    /// with the UTF-16 correction of ``CanonicalJSON/utf16Precedes(utf8:_:)`` (a zero pad byte
    /// means the key ended, and so sorts first, as a shorter key does).
    @inline(__always)
    static func prefixPrecedes(_ a: UInt64, _ b: UInt64) -> Bool {
        let shift = (63 &- (a ^ b).leadingZeroBitCount) & ~7
        let x = UInt8(truncatingIfNeeded: a &>> shift), y = UInt8(truncatingIfNeeded: b &>> shift)
        if x >= 0xEE && y >= 0xEE {
            let xs = x >= 0xF0, ys = y >= 0xF0
            if xs != ys { return xs }
        }
        return x < y
    }

    /// `true` when `a`'s key sorts strictly before `b`'s in RFC 8785 order.
    @inline(__always)
    static func precedes(_ a: Member, _ b: Member, input: UnsafePointer<UInt8>, arena: UnsafeBufferPointer<UInt8>) -> Bool {
        if a.keyPrefix != b.keyPrefix { return prefixPrecedes(a.keyPrefix, b.keyPrefix) }
        // Equal prefixes of keys of at most eight bytes: the keys differ at most by trailing
        // NUL bytes, so the shorter comes first.
        if a.keyCount <= 8 && b.keyCount <= 8 { return a.keyCount < b.keyCount }
        return CanonicalJSON.utf16Precedes(utf8: key(a, input: input, arena: arena), key(b, input: input, arena: arena))
    }

    /// `true` when `a`'s key sorts strictly before `b`'s in RFC 8785 order.
    @inline(__always)
    func precedes(_ a: Member, _ b: Member) -> Bool {
        if a.keyPrefix != b.keyPrefix { return Self.prefixPrecedes(a.keyPrefix, b.keyPrefix) }
        let input = state.base
        if !a.keyInArena && !b.keyInArena {
            return Self.precedes(a, b, input: input, arena: UnsafeBufferPointer(start: nil, count: 0))
        }
        return state.scratch.withUnsafeBufferPointer { arena in Self.precedes(a, b, input: input, arena: arena) }
    }

    /// Sorts `members[first...]` by key, rejects byte-equal keys, and (when `move`) rewrites the
    /// object body (from `bodyStart` to the end of `out`) with the member segments in that
    /// order, recording their ranges in ``nested`` when `record`.
    mutating func sortMembers(from first: Int, bodyStart: Int, move: Bool = true, record: Bool = false) throws(JSONParseError) {
        let input = state.base
        let list = UnsafeBufferPointer(start: members.base + first, count: members.count &- first)
        let n = list.count
        guard n > 1 else { return }
        // Sort member indices (small to move), not the members.
        try withUnsafeTemporaryAllocation(of: Int.self, capacity: n) { (order: UnsafeMutableBufferPointer<Int>) throws(JSONParseError) in
            var order = order
            for i in 0..<n { order.initializeElement(at: i, to: i) }
            let duplicate: (Member, Member)? = state.scratch.withUnsafeBufferPointer { arena in
                func before(_ a: Int, _ b: Int) -> Bool {
                    Self.precedes(list[a], list[b], input: input, arena: arena)
                }
                if n <= 16 {
                    // Insertion sort: fastest for the small objects that dominate.
                    for i in 1..<n {
                        let current = order[i]
                        var j = i
                        while j > 0 && before(current, order[j &- 1]) {
                            order[j] = order[j &- 1]
                            j &-= 1
                        }
                        order[j] = current
                    }
                } else {
                    order.sort(by: before)
                }
                for i in 1..<n {
                    let a = list[order[i &- 1]], b = list[order[i]]
                    if a.keyPrefix == b.keyPrefix && Self.equal(Self.key(a, input: input, arena: arena), Self.key(b, input: input, arena: arena)) {
                        return (a, b)
                    }
                }
                return nil
            }
            if let (a, b) = duplicate {
                throw duplicateKey(a.keyQuote > b.keyQuote ? a : b, equivalentTo: nil)
            }
            guard move else { return }
            // Write the segments in order after the body (it has the same length), then move
            // them over it.
            let bodyEnd = out.count
            out.reserve(bodyEnd &- bodyStart)
            for i in 0..<n {
                let m = list[order[i]]
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if record { nested.append(m.ranges(at: bodyStart &+ (out.count &- bodyEnd), origin: bodyStart &- 1)) }
                out.append(bytes: out.base + m.start, count: m.end &- m.start)
            }
            (out.base + bodyStart).update(from: out.base + bodyEnd, count: bodyEnd &- bodyStart)
            out.truncate(to: bodyEnd)
        }
    }

    /// Rejects keys in `members[first...]` that differ in bytes but are equal as Swift strings
    /// (canonically equivalent, e.g. `"é"` and `"e\u0301"`), as ``JSONParser`` does. Only
    /// objects with a non-ASCII key can have such keys.
    func checkEquivalentKeys(from first: Int) throws(JSONParseError) {
        let input = state.base
        let list = UnsafeBufferPointer(start: members.base + first, count: members.count &- first)
        let duplicate: (Member, Member)? = state.scratch.withUnsafeBufferPointer { arena in
            var seen: [String: Member] = [:]
            for m in list {
                let s = String(decoding: Self.key(m, input: input, arena: arena), as: UTF8.self)
                if let previous = seen.updateValue(m, forKey: s) {
                    return (previous, m)
                }
            }
            return nil
        }
        if let (previous, m) = duplicate {
            throw duplicateKey(m, equivalentTo: previous)
        }
    }

    /// The duplicate-key error for `m`, naming `previous` when its bytes differ.
    func duplicateKey(_ m: Member, equivalentTo previous: Member?) -> JSONParseError {
        let input = state.base
        return state.scratch.withUnsafeBufferPointer { arena in
            var quoted: [UInt8] = []
            CanonicalJSON.writeString(utf8: Self.key(m, input: input, arena: arena), into: &quoted)
            var message = "duplicate key \(String(decoding: quoted, as: UTF8.self))"
            if let previous {
                quoted.removeAll()
                CanonicalJSON.writeString(utf8: Self.key(previous, input: input, arena: arena), into: &quoted)
                message += " (canonically equivalent to \(String(decoding: quoted, as: UTF8.self)))"
            }
            return state.fail(m.keyQuote, message)
        }
    }
}
