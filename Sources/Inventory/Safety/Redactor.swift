/// Removes secrets from text before it is stored or printed, and bounds its length.
///
/// Redacts bearer tokens, JWTs, `Authorization` header values, and the values of
/// `client_secret`, `password`, `sig` (SAS signatures), `code`, `access_token`,
/// `refresh_token` and `client_assertion` (as query parameters, form fields or JSON members),
/// plus any literal secrets registered with the redactor: whole, and any fragment of 8 or more
/// bytes of one (a message cut, or quoting part of a secret, must not leak most of it).
///
/// Redaction happens before truncation: ``redact(_:)`` is given the whole text.
package struct Redactor: Sendable {
    /// The longest text kept, in UTF-8 bytes, after redaction.
    package var maxBytes: Int
    /// Literal secrets (client secret, tokens) to remove wherever they appear.
    package var secrets: [String] {
        didSet { windows = Self.windows(of: secrets) }
    }
    /// Every ``fragmentBytes``-byte window of every secret at least that long, as the
    /// native-endian load of its bytes: a text byte is a secret's fragment when a window
    /// covering it is one of these.
    private var windows: Set<UInt64>
    /// The shortest run of a secret's bytes that is redacted wherever it appears.
    package static let fragmentBytes = 8

    package static let placeholder = "[REDACTED]"
    /// Redacted after `=`, `:` or as JSON members.
    static let sensitiveNames = ["client_secret", "password", "access_token", "refresh_token", "id_token",
                                 "client_assertion", "secret", "token", "apikey", "api_key"]
    /// Redacted only as query or form parameters (`name=value`): as words they are common.
    static let sensitiveParameters = ["sig", "code"]

    package init(maxBytes: Int = 2048, secrets: [String] = []) {
        self.maxBytes = maxBytes
        let kept = secrets.filter { $0.count >= 4 }
        self.secrets = kept
        windows = Self.windows(of: kept)
    }

    private static func windows(of secrets: [String]) -> Set<UInt64> {
        var set = Set<UInt64>()
        for s in secrets where s.utf8.count >= fragmentBytes {
            let b = Array(s.utf8)
            b.withUnsafeBytes { p in
                for i in 0...(b.count - fragmentBytes) { set.insert(p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) }
            }
        }
        return set
    }

    /// `b` with every run of bytes covered by a secret's window replaced by the placeholder.
    func redactFragments(_ b: [UInt8]) -> [UInt8] {
        let n = Self.fragmentBytes
        guard !windows.isEmpty, b.count >= n else { return b }
        // The end (exclusive) of the covered run each covered byte belongs to, found in one scan.
        var coveredUntil = 0
        var runs: [Range<Int>] = []
        b.withUnsafeBytes { p in
            for i in 0...(b.count - n) where windows.contains(p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) {
                if let last = runs.last, i <= coveredUntil {
                    runs[runs.count - 1] = last.lowerBound..<(i + n)
                } else {
                    runs.append(i..<(i + n))
                }
                coveredUntil = i + n
            }
        }
        guard !runs.isEmpty else { return b }
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var at = 0
        for r in runs {
            out += b[at..<r.lowerBound]
            out += Self.placeholder.utf8
            at = r.upperBound
        }
        out += b[at...]
        return out
    }

    /// `text` with secrets replaced by `[REDACTED]`, truncated to ``maxBytes``.
    package func redact(_ text: String) -> String {
        var b = Array(text.utf8)
        for s in secrets { b = Self.replaceLiteral(Array(s.utf8), in: b) }
        b = redactFragments(b)
        b = Self.redactAfterKeyword(b, keyword: Array("bearer".utf8), separators: [32, 9])
        b = Self.redactAfterKeyword(b, keyword: Array("authorization".utf8), separators: [58, 61, 32, 34, 9], wholeValue: true)
        for name in Self.sensitiveNames {
            b = Self.redactParameter(b, name: Array(name.utf8), separators: [61, 58])
        }
        for name in Self.sensitiveParameters {
            b = Self.redactParameter(b, name: Array(name.utf8), separators: [61])
        }
        b = Self.redactJWTs(b)
        var out = String(decoding: b, as: UTF8.self)
        if out.utf8.count > maxBytes {
            out = out.utf8Prefix(maxBytes: maxBytes) + "…[truncated]"
        }
        return out
    }

    private static func lower(_ c: UInt8) -> UInt8 { (c >= 65 && c <= 90) ? c + 32 : c }

    private static func isTokenChar(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
            || c == 45 || c == 46 || c == 95 || c == 126 || c == 43 || c == 47 || c == 61 || c == 37
    }

    private static func matches(_ b: [UInt8], at i: Int, _ word: [UInt8]) -> Bool {
        guard i + word.count <= b.count else { return false }
        for j in 0..<word.count where lower(b[i + j]) != word[j] { return false }
        return true
    }

    static func replaceLiteral(_ secret: [UInt8], in b: [UInt8]) -> [UInt8] {
        guard !secret.isEmpty, b.count >= secret.count else { return b }
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            if b[i] == secret[0], i + secret.count <= b.count, Array(b[i..<i + secret.count]) == secret {
                out += placeholder.utf8
                i += secret.count
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return out
    }

    /// Redacts the token following `keyword` (case-insensitive) and separators.
    static func redactAfterKeyword(_ b: [UInt8], keyword: [UInt8], separators: Set<UInt8>, wholeValue: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            if matches(b, at: i, keyword) && (i == 0 || !isTokenChar(b[i - 1]) || b[i - 1] == 95) {
                out += b[i..<i + keyword.count]
                i += keyword.count
                var j = i
                while j < b.count && separators.contains(b[j]) { j += 1 }
                guard j > i else { continue }
                out += b[i..<j]
                var k = j
                if wholeValue {
                    // Up to the end of the line, quote or comma: covers "Bearer xyz" and "Basic xyz".
                    while k < b.count && b[k] != 10 && b[k] != 13 && b[k] != 34 && b[k] != 44 && b[k] != 38 { k += 1 }
                } else {
                    while k < b.count && isTokenChar(b[k]) { k += 1 }
                }
                if k > j {
                    out += placeholder.utf8
                    i = k
                } else {
                    i = j
                }
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return out
    }

    /// Redacts `name=value`, `name: value` and `"name":"value"` forms.
    static func redactParameter(_ b: [UInt8], name: [UInt8], separators: Set<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            let boundaryBefore = i == 0 || !(isTokenChar(b[i - 1]) && b[i - 1] != 61 && b[i - 1] != 47 && b[i - 1] != 43) || b[i - 1] == 34
            if boundaryBefore && matches(b, at: i, name) {
                var j = i + name.count
                var quoted = false
                if j < b.count && b[j] == 34 { j += 1; quoted = true }  // closing quote of a JSON key
                var k = j
                while k < b.count && (b[k] == 32 || b[k] == 9) { k += 1 }
                if k < b.count && separators.contains(b[k]) && !(quoted && b[k] == 61) {
                    k += 1
                    while k < b.count && (b[k] == 32 || b[k] == 9) { k += 1 }
                    var valueQuoted = false
                    if k < b.count && b[k] == 34 { k += 1; valueQuoted = true }
                    var e = k
                    if valueQuoted {
                        while e < b.count && b[e] != 34 { e += b[e] == 92 ? 2 : 1 }
                        e = min(e, b.count)
                    } else {
                        while e < b.count && b[e] != 38 && b[e] != 32 && b[e] != 44 && b[e] != 10 && b[e] != 13 && b[e] != 59 && b[e] != 34 && b[e] != 125 { e += 1 }
                    }
                    if e > k {
                        out += b[i..<k]
                        out += placeholder.utf8
                        i = e
                        continue
                    }
                }
                _ = quoted
            }
            out.append(b[i])
            i += 1
        }
        return out
    }

    /// Redacts anything shaped like a JWT: `eyJ…` `.` `…` `.` `…`.
    static func redactJWTs(_ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        func isB64(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45 || c == 95 }
        while i < b.count {
            if i + 3 <= b.count && b[i] == 101 && b[i + 1] == 121 && b[i + 2] == 74 {
                var k = i
                var dots = 0
                while k < b.count && (isB64(b[k]) || b[k] == 46) {
                    if b[k] == 46 { dots += 1 }
                    k += 1
                }
                if dots >= 2 && k - i >= 20 {
                    out += placeholder.utf8
                    i = k
                    continue
                }
            }
            out.append(b[i])
            i += 1
        }
        return out
    }
}
