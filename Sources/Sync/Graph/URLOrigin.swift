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

    /// Whether the host is a loopback address: `localhost`, 127.0.0.0/8 or `::1`.
    var isLoopback: Bool {
        let host = self.host.hasPrefix("[") && self.host.hasSuffix("]") ? String(self.host.dropFirst().dropLast()) : self.host
        if host == "localhost" || host == "localhost." { return true }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } == [UInt8](repeating: 0, count: 15) + [1] }
        // Four dotted decimal octets only (inet_pton's form), the first one 127.
        var v4 = in_addr()
        guard inet_pton(AF_INET, host, &v4) == 1 else { return false }
        return UInt32(bigEndian: v4.s_addr) >> 24 == 127
    }

    var description: String { "\(scheme)://\(host):\(port)" }
}
