import Foundation

/// Where a command's store is, from `--store` / `ATLAS_STORE`: a value starting with
/// `postgres://` or `postgresql://` names a PostgreSQL server, anything else an LMDB directory.
package enum StoreLocation: Sendable, Hashable, CustomStringConvertible {
    /// An embedded store: the LMDB environment directory.
    case lmdb(String)
    /// A store on a PostgreSQL server: the connection URL as given (it may hold a password).
    case postgres(String)

    /// The location `text` names.
    package init(_ text: String) {
        let lower = text.lowercased()
        if lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://") {
            self = .postgres(text)
        } else {
            self = .lmdb(text)
        }
    }

    /// For messages: the directory, or the URL without its password.
    package var description: String {
        switch self {
        case .lmdb(let path): path
        case .postgres(let url): Self.redacted(url)
        }
    }

    /// `url` with the password of its user information (`user:password@`) left out.
    static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@") else { return url }
        let userInfo = authority[..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + String(url[at...])
    }
}
