import Crypto

/// The 32-byte SHA-256 hash chaining each event to the one before it, with `chain(0)` = 32 zero
/// bytes and `key(n)` the 8-byte big-endian position:
/// - store format 2: `chain(n) = SHA-256(chain(n-1) || key(n) || SHA-256(json(n)))`;
/// - store format 1: `chain(n) = SHA-256(chain(n-1) || key(n) || json(n))`.
///
/// Format 2 hashes each event's JSON on its own, so the code that writes an event can digest it
/// (see ``EventDigest``) and the log's single writer only chains 72 bytes per event.
package struct ChainHash: Sendable, Hashable, CustomStringConvertible {
    /// The 32 bytes as four words in memory order (no allocation per hash).
    private let words: (UInt64, UInt64, UInt64, UInt64)

    /// The 32 bytes.
    package var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Calls `body` with the 32 bytes, without allocating.
    package func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: words) { try body($0) }
    }

    package init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.init(unchecked: bytes)
    }

    init(unchecked bytes: [UInt8]) { self = bytes.withUnsafeBytes { Self(unchecked: $0) } }

    /// The hash whose bytes are the first 32 of `b` (which must have 32).
    init(unchecked b: UnsafeRawBufferPointer) {
        words = (b.loadUnaligned(fromByteOffset: 0, as: UInt64.self), b.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                 b.loadUnaligned(fromByteOffset: 16, as: UInt64.self), b.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    }

    package static func == (a: ChainHash, b: ChainHash) -> Bool { a.words == b.words }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    /// The hash before the first event: 32 zero bytes.
    package static let genesis = ChainHash(unchecked: [UInt8](repeating: 0, count: 32))

    /// The chain hash of the event at `position` with canonical envelope `json`, following
    /// `previous`, in store format `format` (1 or 2).
    package static func next(after previous: ChainHash, position: UInt64, json: UnsafeRawBufferPointer, format: Int) -> ChainHash {
        format >= 2 ? next(after: previous, position: position, digest: EventDigest(json: json))
            : next(after: previous, position: position, json: json)
    }

    /// Store format 2: the chain hash of the event at `position` whose JSON has `digest`.
    package static func next(after previous: ChainHash, position: UInt64, digest: EventDigest) -> ChainHash {
        withUnsafeTemporaryAllocation(byteCount: 72, alignment: 8) { input in
            let base = input.baseAddress!
            previous.withUnsafeBytes { base.copyMemory(from: $0.baseAddress!, byteCount: 32) }
            base.storeBytes(of: position.bigEndian, toByteOffset: 32, as: UInt64.self)
            digest.withUnsafeBytes { (base + 40).copyMemory(from: $0.baseAddress!, byteCount: 32) }
            return SHA256.hash(data: UnsafeRawBufferPointer(input)).withUnsafeBytes { ChainHash(unchecked: $0) }
        }
    }

    /// Store format 1: the chain hash of the event at `position` with canonical envelope
    /// `json`, following `previous`.
    package static func next(after previous: ChainHash, position: UInt64, json: UnsafeRawBufferPointer) -> ChainHash {
        var hasher = SHA256()
        previous.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        var key = position.bigEndian
        Swift.withUnsafeBytes(of: &key) { hasher.update(bufferPointer: $0) }
        hasher.update(bufferPointer: json)
        return hasher.finalize().withUnsafeBytes { ChainHash(unchecked: $0) }
    }

    /// Lowercase hex.
    package var hex: String { withUnsafeBytes { Hex.encode($0) } }
    package var description: String { hex }
}

/// The SHA-256 of an event's canonical envelope JSON: what a format-2 chain hashes in its place.
package struct EventDigest: Sendable, Hashable {
    private let words: (UInt64, UInt64, UInt64, UInt64)

    /// The digest of `json`.
    package init(json: UnsafeRawBufferPointer) {
        words = SHA256.hash(data: json).withUnsafeBytes { b in
            (b.loadUnaligned(fromByteOffset: 0, as: UInt64.self), b.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
             b.loadUnaligned(fromByteOffset: 16, as: UInt64.self), b.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
        }
    }

    /// Calls `body` with the 32 bytes, without allocating.
    package func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: words) { try body($0) }
    }

    package static func == (a: EventDigest, b: EventDigest) -> Bool { a.words == b.words }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
    }
}

/// Lowercase hexadecimal encoding.
package enum Hex {
    /// The lowercase hex form of `bytes`.
    package static func encode<C: Collection<UInt8>>(_ bytes: C) -> String {
        if let s = bytes.withContiguousStorageIfAvailable({ encode(UnsafeRawBufferPointer($0)) }) { return s }
        return Array(bytes).withUnsafeBytes { encode($0) }
    }

    /// The lowercase hex form of `bytes`.
    package static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for i in 0..<bytes.count {
                out[2 * i] = digit(bytes[i] >> 4)
                out[2 * i + 1] = digit(bytes[i] & 0x0F)
            }
            return bytes.count * 2
        }
    }

    /// Writes the lowercase hex form of `bytes` (twice as many bytes) at `out`.
    package static func write(_ bytes: UnsafeRawBufferPointer, to out: UnsafeMutableRawPointer) {
        for i in 0..<bytes.count {
            out.storeBytes(of: digit(bytes[i] >> 4), toByteOffset: 2 * i, as: UInt8.self)
            out.storeBytes(of: digit(bytes[i] & 0x0F), toByteOffset: 2 * i + 1, as: UInt8.self)
        }
    }

    /// Appends the lowercase hex form of `bytes` to `out`.
    package static func append(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.reserveCapacity(out.count + bytes.count * 2)
        for b in bytes {
            out.append(digit(b >> 4))
            out.append(digit(b & 0x0F))
        }
    }

    /// The bytes of a hex string, or `nil` when it is not hex of even length.
    package static func decode(_ text: String) -> [UInt8]? {
        Array(text.utf8).withUnsafeBytes { decode(utf8: $0) }
    }

    /// The bytes of hex text given as raw UTF-8, or `nil` when it is not hex of even length.
    package static func decode(utf8 u: UnsafeRawBufferPointer) -> [UInt8]? {
        guard u.count % 2 == 0 else { return nil }
        var ok = false
        let out = [UInt8](unsafeUninitializedCapacity: u.count / 2) { buffer, initialized in
            ok = decode(utf8: u, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = u.count / 2
        }
        return ok ? out : nil
    }

    /// Decodes hex text given as raw UTF-8 into `out`, which must hold exactly half as many
    /// bytes; `false` (with `out` unspecified) when the text is not hex of that length.
    package static func decode(utf8 u: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Bool {
        guard u.count == out.count * 2 else { return false }
        var bad: UInt8 = 0
        values.withUnsafeBufferPointer { table in
            var i = 0
            while i < u.count {
                let hi = table[Int(u[i])], lo = table[Int(u[i + 1])]
                bad |= (hi | lo) & 0xF0
                out[i / 2] = hi << 4 | lo
                i += 2
            }
        }
        return bad == 0
    }

    /// Each byte's hex digit value, or 0xFF.
    private static let values: [UInt8] = (0...255).map { value(UInt8($0)) ?? 0xFF }

    /// The lowercase hex digit of a nibble.
    @inline(__always)
    static func digit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 48 + nibble : 87 + nibble }

    /// The value of a hex digit (either case).
    @inline(__always)
    static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 97...102: c - 87
        case 65...70: c - 55
        default: nil
        }
    }
}
