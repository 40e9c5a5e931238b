import ArgumentParser
import AtlasServer
import CommandSupport
import Foundation
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the store read-only over HTTP: the JSON API, the event stream (Server-Sent Events) and the web console.",
        discussion: """
            Prints `listening on URL` once bound and serves until SIGTERM or SIGINT (exit 0). Binds to 127.0.0.1 unless \
            --bind says otherwise; a non-loopback address needs --tls-cert and --tls-key, or --insecure-http (for a \
            TLS-terminating reverse proxy on the same network). Every request but /api/v1/health needs a token from \
            `atlas token create`. Each request is logged to stderr (method, path, status, duration, token name). \
            The store is opened read-only and never written. See docs/server.md.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var logging: LoggingOptions
    @Option(help: "The address to bind (default 127.0.0.1).") var bind = "127.0.0.1"
    @Option(help: "The port to listen on (0 picks a free port).") var port = 8080
    @Option(name: .customLong("tls-cert"), help: "A PEM certificate chain: serve HTTPS (with --tls-key).") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "The PEM private key of --tls-cert.") var tlsKey: String?
    @Flag(name: .customLong("insecure-http"), help: "Allow plain HTTP on a non-loopback --bind (tokens cross the network unencrypted).")
    var insecureHTTP = false
    @Option(name: .customLong("heartbeat-seconds"), help: "Seconds an event stream may stay silent before a heartbeat comment (default 15).")
    var heartbeatSeconds: Double = 15

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535, not \(port)") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("give both --tls-cert and --tls-key, or neither") }
        if bind.isEmpty { throw ValidationError("--bind must not be empty") }
        if !ServerConfiguration.isLoopback(bind), tlsCert == nil, !insecureHTTP {
            throw ValidationError("--bind \(bind) is not a loopback address: give --tls-cert and --tls-key, or --insecure-http to serve plain HTTP on it anyway")
        }
        guard heartbeatSeconds >= 0.05, heartbeatSeconds <= 3600 else { throw ValidationError("--heartbeat-seconds must be 0.05-3600") }
        for (name, path) in [("--tls-cert", tlsCert), ("--tls-key", tlsKey)] {
            if let path, !FileManager.default.isReadableFile(atPath: path) { throw ValidationError("\(name) \(path) is not a readable file") }
        }
    }

    func run() async throws {
        let s = try store.openForReading(accessTokens: true)
        let tls = tlsCert.map { ServerConfiguration.TLSFiles(certificate: $0, privateKey: tlsKey!) }
        let server = AtlasServer(
            store: s,
            configuration: ServerConfiguration(host: bind, port: port, tls: tls, heartbeat: .milliseconds(Int(heartbeatSeconds * 1000))),
            logger: logging.logger("atlas.serve"))
        do {
            try await server.run { url in
                print("listening on \(url)")
                fflush(nil)
            }
        } catch {
            throw CommandFailure("could not serve on \(bind):\(port): \(error)")
        }
    }
}
