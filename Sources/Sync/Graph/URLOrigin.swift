import Foundation

/// The scheme, host and port of a URL: the bearer token is only ever sent to Graph's origin.
struct URLOrigin: Sendable, Hashable, CustomStringConvertible {
    let scheme: String
    let host: String
    let port: Int

    /// The origin of `url`, or `nil` when it is not `http`/`https` with a host.
    /// Uses Foundation's `URL`, the parser AsyncHTTPClient uses, so both agree on the host.
    init?(_ url: URL) {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty
        else { return nil }
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = url.port ?? (scheme == "https" ? 443 : 80)
    }

    /// The origin of `string`, or `nil`.
    init?(string: String) {
        guard let url = URL(string: string) else { return nil }
        self.init(url)
    }

    var description: String { "\(scheme)://\(host):\(port)" }
}
