import AsyncHTTPClient
import AtlasServer
import AtlasTesting
import CanonicalJSON
import EventLog
import Foundation
import Inventory
import Logging
import NIOCore
import NIOHTTP1

/// A store (in a temporary directory, or a PostgreSQL database), filled by the real `atlas`
/// binary (`sync --from-file`, `token create`), and an in-process `AtlasServer` over it on a
/// free loopback port.
final class ServerFixture: @unchecked Sendable {
    let dir: String
    /// The LMDB directory in `dir`, or the PostgreSQL URL given.
    let store: String
    private var exports = 0
    static let selection = #"{"policy_types":["deviceConfiguration"]}"#

    init(store: String? = nil) throws {
        dir = NSTemporaryDirectory() + "atlas-serve-\(UUID().uuidString)"
        self.store = store ?? dir + "/store"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    /// The built `atlas` beside the test bundle.
    static var atlasBinary: String {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("atlas").path) && url.path != "/" {
            url = url.deletingLastPathComponent()
        }
        return url.appendingPathComponent("atlas").path
    }

    struct Ran {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Starts `atlas ARGS` (or another of the built executables), outputs on pipes.
    static func start(_ args: [String], executable: String = atlasBinary) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        var environment = ProcessInfo.processInfo.environment
        environment["ATLAS_STORE"] = nil
        p.environment = environment
        p.standardOutput = Pipe()
        p.standardError = Pipe()
        try p.run()
        return p
    }

    /// Runs `atlas ARGS` (or another of the built executables) to its end.
    static func run(_ args: [String], executable: String = atlasBinary) async throws -> Ran {
        let r = await ChildOutput.collect(try start(args, executable: executable))
        return Ran(status: r.status, stdout: String(decoding: r.stdout, as: UTF8.self), stderr: String(decoding: r.stderr, as: UTF8.self))
    }

    /// `atlas ARGS --store STORE`, which must succeed; its stdout.
    @discardableResult
    func atlas(_ args: [String]) async throws -> String {
        let r = try await Self.run(args + ["--store", store])
        guard r.status == 0 else { throw Failure("atlas \(args.joined(separator: " ")) exited \(r.status): \(r.stderr)") }
        return r.stdout
    }

    /// Syncs `tenant` from an export of `deviceConfiguration` items `ids` (enumerated completely).
    func sync(_ tenant: String, _ ids: [String], names: [String: String] = [:]) async throws {
        exports += 1
        let path = dir + "/export-\(exports).ndjson"
        var lines = ids.map { id in
            ##"{"item":{"@odata.type":"#microsoft.graph.windows10GeneralConfiguration","displayName":"\##(names[id] ?? "Policy \(id)")","id":"\##(id)"},"policy_type":"deviceConfiguration"}"##
        }
        lines.append(#"{"enumerated":{"count":\#(ids.count)},"policy_type":"deviceConfiguration"}"#)
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try await atlas(["sync", "--tenant", tenant, "--selection", Self.selection, "--from-file", path])
    }

    /// A new token from `atlas token create`.
    func token(_ name: String, tenants: [String] = []) async throws -> String {
        try await atlas(["token", "create", "--name", name] + tenants.flatMap { ["--tenant", $0] })
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The store opened read-only, as `atlas serve` opens it.
    func readOnlyStore() throws -> LMDBEventStore {
        try LMDBEventStore.open(path: store, options: .init(readOnly: true, projections: InventoryProjections.all))
    }

    /// An in-process server over the store on a free loopback port; the caller stops it.
    func startServer(heartbeat: Duration = .seconds(15), streamChunk: Int = 256) async throws -> (AtlasServer, String) {
        let server = AtlasServer(store: try readOnlyStore(),
                                 configuration: .init(port: 0, heartbeat: heartbeat, pollInterval: .milliseconds(20), streamChunk: streamChunk),
                                 logger: Self.quietLogger)
        let base = try await server.start()
        return (server, base)
    }
}

extension ServerFixture {
    /// Request lines are not printed in test output (the process tests check them).
    static var quietLogger: Logger {
        var logger = Logger(label: "atlas.serve.test")
        logger.logLevel = .warning
        return logger
    }
}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// HTTP over AsyncHTTPClient, redirects not followed.
enum HTTP {
    static let client = HTTPClient(eventLoopGroupProvider: .singleton,
                                   configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(60))))

    struct Reply {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: JSONValue? { try? JSONParser().parse(body) }
        func header(_ name: String) -> String? { headers.first(name: name) }
    }

    static func request(_ method: HTTPMethod = .GET, _ url: String, token: String? = nil, headers: [(String, String)] = [],
                        form: [(String, String)]? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let form {
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            let text = form.map { "\($0.addingPercentEncoding(withAllowedCharacters: allowed)!)=\($1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }
                .joined(separator: "&")
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: text))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 64 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Array(buffer.readableBytesView))
    }

    static func get(_ url: String, token: String? = nil, headers: [(String, String)] = []) async throws -> Reply {
        try await request(.GET, url, token: token, headers: headers)
    }

    /// Percent-encodes a query value.
    static func q(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed)!
    }
}

/// Reads Server-Sent Events from `/api/v1/events`.
struct SSEReader {
    struct Event: Equatable {
        var id: UInt64
        var data: String
    }

    /// Opens the stream and collects events until `stop` says so (given the events so far) or
    /// `timeout` passes; then drops the connection. Also returns the comment lines seen.
    static func collect(_ url: String, token: String, lastEventID: UInt64? = nil, timeout: Duration = .seconds(20),
                        stop: @escaping @Sendable ([Event], [String]) -> Bool) async throws -> (status: Int, events: [Event], comments: [String]) {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: String(lastEventID)) }
        let response = try await HTTP.client.execute(request, timeout: .seconds(60))
        guard response.status == .ok else { return (Int(response.status.code), [], []) }
        return try await withThrowingTaskGroup(of: ([Event], [String])?.self) { group in
            group.addTask {
                var events: [Event] = [], comments: [String] = []
                var pending = "", id: UInt64?, data: String?
                for try await buffer in response.body {
                    pending += String(buffer: buffer)
                    while let nl = pending.firstIndex(of: "\n") {
                        let line = String(pending[..<nl])
                        pending = String(pending[pending.index(after: nl)...])
                        if line.isEmpty {
                            if let i = id, let d = data { events.append(Event(id: i, data: d)) }
                            id = nil
                            data = nil
                            if stop(events, comments) { return (events, comments) }
                        } else if line.hasPrefix(":") {
                            comments.append(line)
                            if stop(events, comments) { return (events, comments) }
                        } else if line.hasPrefix("id: ") {
                            id = UInt64(line.dropFirst(4))
                        } else if line.hasPrefix("data: ") {
                            data = String(line.dropFirst(6))
                        }
                    }
                }
                return (events, comments)
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            guard let (events, comments) = first else { throw Failure("no end of the stream within \(timeout)") }
            return (200, events, comments)
        }
    }
}
