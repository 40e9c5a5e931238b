package import EventLog
import Foundation

/// Where a PostgreSQL store lives: a `postgres://` or `postgresql://` URL,
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE]`.
///
/// Every part is percent-decoded. Without a password in the URL, `PGPASSWORD` is used, then the
/// first matching line of `~/.pgpass` (or the file `PGPASSFILE` names). The user defaults to
/// `PGUSER`, then `postgres`; the port to 5432; the database to the user's name. The password
/// never appears in ``description`` or in an error.
package struct PostgresURL: Sendable, Hashable, CustomStringConvertible {
    /// How the connection uses TLS.
    package enum SSLMode: String, Sendable, Hashable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, without verifying its certificate.
        case prefer
        /// TLS always, without verifying the server's certificate.
        case require
        /// TLS always, verifying the certificate chain and the host name.
        case verifyFull = "verify-full"
    }

    package var user: String
    package var password: String?
    package var host: String
    package var port: Int
    package var database: String
    package var sslMode: SSLMode

    package init(user: String, password: String?, host: String, port: Int = 5432, database: String, sslMode: SSLMode = .prefer) {
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.database = database
        self.sslMode = sslMode
    }

    /// Whether `text` names a PostgreSQL store (starts with `postgres://` or `postgresql://`)
    /// rather than an LMDB directory.
    package static func isPostgresURL(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    /// Parses `text`, reading `environment` for `PGPASSWORD`, `PGUSER` and `PGPASSFILE` and the
    /// password file (`~/.pgpass` under `HOME` by default).
    ///
    /// - Throws: ``EventLogError`` with code `invalid_options` naming the part that is wrong.
    package init(parsing text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(EventLogError) {
        func bad(_ what: String) -> EventLogError {
            EventLogError(.invalidOptions, "bad PostgreSQL URL \(Self.redacted(text)): \(what)")
        }
        let rest: Substring
        if let r = text.range(of: "://"), ["postgres", "postgresql"].contains(text[..<r.lowerBound].lowercased()) {
            rest = text[r.upperBound...]
        } else {
            throw bad("the scheme must be postgres:// or postgresql://")
        }
        // Split off the query, then the path (the database).
        let (beforeQuery, query) = rest.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            .twoParts
        let (authority, path) = beforeQuery.firstIndex(of: "/").map { (beforeQuery[..<$0], beforeQuery[beforeQuery.index(after: $0)...]) }
            ?? (beforeQuery, nil)
        // userinfo@host:port — the last '@' ends the user info (a password may hold one, encoded or not).
        var userInfo: Substring?
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
        }
        var user: String?
        var password: String?
        if let userInfo {
            let (u, p) = userInfo.firstIndex(of: ":").map { (userInfo[..<$0], Optional(userInfo[userInfo.index(after: $0)...])) }
                ?? (userInfo, nil)
            guard let du = Self.decode(u) else { throw bad("the user name has a bad percent escape") }
            if !du.isEmpty { user = du }
            if let p {
                guard let dp = Self.decode(p) else { throw bad("the password has a bad percent escape") }
                password = dp
            }
        }
        var host = "localhost"
        var port = 5432
        var h = hostPort
        if h.hasPrefix("[") {
            guard let close = h.firstIndex(of: "]") else { throw bad("the IPv6 host has no closing ]") }
            host = String(h[h.index(after: h.startIndex)..<close])
            h = h[h.index(after: close)...]
            if !h.isEmpty && !h.hasPrefix(":") { throw bad("unexpected text after the IPv6 host") }
        } else {
            let name = h.firstIndex(of: ":").map { h[..<$0] } ?? h
            guard let decoded = Self.decode(name) else { throw bad("the host has a bad percent escape") }
            if !decoded.isEmpty { host = decoded }
            h = h[name.endIndex...]
        }
        if h.hasPrefix(":") {
            let digits = h.dropFirst()
            guard let p = Int(digits), (1...65535).contains(p) else { throw bad("the port \"\(digits)\" is not a number from 1 to 65535") }
            port = p
        }
        var database: String?
        if let path, !path.isEmpty {
            guard let d = Self.decode(path) else { throw bad("the database name has a bad percent escape") }
            guard !d.contains("/") else { throw bad("the database name \"\(d)\" contains a /") }
            database = d
        }
        var sslMode = SSLMode.prefer
        if let query, !query.isEmpty {
            for pair in query.split(separator: "&") {
                let (k, v) = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).twoParts
                guard let key = Self.decode(k), let value = v.flatMap(Self.decode) else {
                    throw bad("the query parameter \"\(pair)\" is not NAME=VALUE")
                }
                switch key {
                case "sslmode":
                    guard let m = SSLMode(rawValue: value) else {
                        throw bad("sslmode \"\(value)\" is not one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    sslMode = m
                case "user": user = value
                case "password": password = value
                case "host": host = value
                case "port":
                    guard let p = Int(value), (1...65535).contains(p) else { throw bad("the port \"\(value)\" is not a number from 1 to 65535") }
                    port = p
                case "dbname": database = value
                default: throw bad("unknown parameter \"\(key)\" (known: sslmode, user, password, host, port, dbname)")
                }
            }
        }
        let u = user ?? environment["PGUSER"] ?? "postgres"
        let db = database ?? u
        if password == nil {
            password = environment["PGPASSWORD"] ?? Self.passwordFromFile(
                host: host, port: port, database: db, user: u, environment: environment)
        }
        self.init(user: u, password: password, host: host, port: port, database: db, sslMode: sslMode)
    }

    /// The URL without its password.
    package var description: String {
        var s = "postgres://\(Self.encode(user))@"
        s += host.contains(":") ? "[\(host)]" : Self.encode(host)
        s += ":\(port)/\(Self.encode(database))"
        if sslMode != .prefer { s += "?sslmode=\(sslMode.rawValue)" }
        return s
    }

    /// The same server with another database.
    package func with(database: String) -> PostgresURL {
        var u = self
        u.database = database
        return u
    }

    /// `text` with any password between `://user:` and `@` replaced by `***`.
    static func redacted(_ text: String) -> String {
        guard let scheme = text.range(of: "://") else { return text }
        let rest = text[scheme.upperBound...]
        guard let at = rest.lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") else { return text }
        return String(text[..<rest.index(after: colon)]) + "***" + String(rest[at...])
    }

    private static func decode<S: StringProtocol>(_ s: S) -> String? {
        String(s).removingPercentEncoding
    }

    private static func encode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed.subtracting(CharacterSet(charactersIn: ":@/?#"))) ?? s
    }

    /// The password of the first line of the password file matching the connection:
    /// `host:port:database:user:password`, `*` matching anything, `\` escaping `:` and `\`.
    static func passwordFromFile(host: String, port: Int, database: String, user: String, environment: [String: String]) -> String? {
        let path = environment["PGPASSFILE"] ?? environment["HOME"].map { $0 + "/.pgpass" }
        guard let path, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            var fields: [String] = []
            var current = ""
            var escaped = false
            for c in line {
                if escaped { current.append(c); escaped = false }
                else if c == "\\" { escaped = true }
                else if c == ":" && fields.count < 4 { fields.append(current); current = "" }
                else { current.append(c) }
            }
            fields.append(current)
            guard fields.count == 5 else { continue }
            let wanted = [host, String(port), database, user]
            if zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }
}

extension Array where Element == Substring {
    /// The first element and the second, if any.
    fileprivate var twoParts: (Substring, Substring?) { (self.first ?? "", count > 1 ? self[1] : nil) }
}
