/// How `atlas serve` listens and streams.
package struct ServerConfiguration: Sendable {
    /// A certificate chain and private key, PEM files.
    package struct TLSFiles: Sendable, Hashable {
        package var certificate: String
        package var privateKey: String

        package init(certificate: String, privateKey: String) {
            self.certificate = certificate
            self.privateKey = privateKey
        }
    }

    /// The address to bind.
    package var host: String
    /// The port to bind; 0 picks a free one.
    package var port: Int
    /// Serve HTTPS with these files.
    package var tls: TLSFiles?
    /// How long an event stream may stay silent before a `: heartbeat` comment is sent.
    package var heartbeat: Duration
    /// How often an event stream that has caught up looks for new events.
    package var pollInterval: Duration
    /// At most this many events are read per (short) read transaction of an event stream.
    package var streamChunk: Int
    /// How long a console session lasts.
    package var sessionLifetime: Duration

    package init(host: String = "127.0.0.1", port: Int = 8080, tls: TLSFiles? = nil, heartbeat: Duration = .seconds(15),
                 pollInterval: Duration = .milliseconds(100), streamChunk: Int = 256, sessionLifetime: Duration = .seconds(12 * 3600)) {
        self.host = host
        self.port = port
        self.tls = tls
        self.heartbeat = heartbeat
        self.pollInterval = pollInterval
        self.streamChunk = max(1, streamChunk)
        self.sessionLifetime = sessionLifetime
    }

    /// Whether the session cookie is marked `Secure`: always, except over plain HTTP on loopback
    /// (where browsers would not send it back).
    package var secureCookies: Bool { tls != nil || !Self.isLoopback(host) }

    /// Whether `host` names the loopback interface.
    package static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}
