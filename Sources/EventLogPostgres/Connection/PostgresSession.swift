import EventLog
import Foundation
import Synchronization
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// One connection to the server, used by one thread at a time through blocking calls.
///
/// The event log's protocol is synchronous for reads; a session bridges to postgres-nio by
/// waiting on its futures from the calling thread (never an event-loop thread: the futures
/// complete on the shared NIO event loop group).
// @unchecked Sendable: a session is used by one thread at a time (handed out by ``SessionPool``).
/// Numbers the connections of this process (postgres-nio logs them by number).
final class IDCounter: Sendable {
    private let value = Atomic<Int>(0)
    func next() -> Int { value.wrappingAdd(1, ordering: .relaxed).newValue }
}

final class PostgresSession: @unchecked Sendable {
    let connection: PostgresConnection
    let logger: Logger
    /// Whether the server ended a transaction or the connection broke: not to be reused.
    private(set) var broken = false
    /// Whether ``transaction(_:_:)`` is running its body.
    private(set) var inTransaction = false
    /// The current transaction's `now()`, once asked (``transactionTime()``).
    var transactionClock: Timestamp?

    private init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    private static let ids = IDCounter()

    /// The logger every connection uses (discarding postgres-nio's messages).
    static let quietLogger = Logger(label: "atlas.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Connects to `url`, blocking until the connection is ready.
    static func connect(_ url: PostgresURL) throws -> PostgresSession {
        let logger = quietLogger
        let config = try configuration(url)
        let id = ids.next()
        do {
            let connection = try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(), configuration: config, id: id, logger: logger).wait()
            return PostgresSession(connection: connection, logger: logger)
        } catch {
            throw Self.mapError(error, connecting: url)
        }
    }

    /// Connects to `url` without blocking a thread: for a connection used through postgres-nio's
    /// async API (the LISTEN connection of ``PostgresWakeSignal``).
    static func connectAsync(_ url: PostgresURL) async throws -> PostgresConnection {
        do {
            return try await PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration(url), id: ids.next(),
                logger: quietLogger).get()
        } catch {
            throw Self.mapError(error, connecting: url)
        }
    }

    /// The connection settings for `url`.
    private static func configuration(_ url: PostgresURL) throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch url.sslMode {
            case .disable: tls = .disable
            case .prefer, .require:
                var c = TLSConfiguration.makeClientConfiguration()
                c.certificateVerification = .none
                let context = try NIOSSLContext(configuration: c)
                tls = url.sslMode == .prefer ? .prefer(context) : .require(context)
            case .verifyFull:
                tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        } catch {
            throw EventLogError(.invalidOptions, "cannot set up TLS for \(url): \(error)")
        }
        var config = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: tls)
        config.options.connectTimeout = .seconds(10)
        if url.sslMode == .verifyFull { config.options.tlsServerName = url.host }
        return config
    }

    /// Runs `query` and returns its rows.
    @discardableResult
    func query(_ query: PostgresQuery) throws -> [PostgresRow] {
        do {
            return try connection.query(query, logger: logger).wait().rows
        } catch {
            if connection.isClosed { broken = true }
            throw error
        }
    }

    /// Sends `query` without waiting for it: the server runs it after the statements sent
    /// before it, and the session's later statements run after it. Wait for the result with
    /// ``wait(_:)`` before the transaction ends.
    func send(_ query: PostgresQuery) -> EventLoopFuture<PostgresQueryResult> {
        connection.query(query, logger: logger)
    }

    /// Waits for every statement of `sent` (from ``send(_:)``); throws the first failure.
    func wait(_ sent: [EventLoopFuture<PostgresQueryResult>]) throws {
        var first: (any Error)?
        for f in sent {
            do { _ = try f.wait() } catch { if first == nil { first = error } }
        }
        if let first {
            if connection.isClosed { broken = true }
            throw first
        }
    }

    /// Runs `query`, calling `body` with each row as it arrives (on an event-loop thread).
    func query(_ query: PostgresQuery, onRow body: @escaping @Sendable (PostgresRow) throws -> Void) throws {
        do {
            _ = try connection.query(query, logger: logger, body).wait()
        } catch {
            if connection.isClosed { broken = true }
            throw error
        }
    }

    /// Runs SQL with no parameters and no rows of interest.
    func execute(_ sql: String) throws {
        try query(PostgresQuery(unsafeSQL: sql))
    }

    /// Runs `body` between `begin` and `COMMIT`; rolls back when `body` throws.
    func transaction<R>(_ begin: String = "BEGIN", _ body: () throws -> R) throws -> R {
        try execute(begin)
        inTransaction = true
        transactionClock = nil
        defer {
            inTransaction = false
            transactionClock = nil
        }
        let result: R
        do {
            result = try body()
        } catch {
            do { try execute("ROLLBACK") } catch { broken = true }
            throw error
        }
        do { try execute("COMMIT") } catch {
            broken = true
            throw error
        }
        return result
    }

    func close() {
        broken = true
        guard !connection.isClosed else { return }
        if MultiThreadedEventLoopGroup.currentEventLoop == nil {
            _ = try? connection.close().wait()
        } else {
            connection.close().whenComplete { _ in }
        }
    }

    deinit { close() }

    /// An error of postgres-nio as an ``EventLogError``, with the server's message (never the
    /// password: the URL's ``PostgresURL/description`` leaves it out).
    static func mapError(_ error: any Error, connecting url: PostgresURL? = nil) -> any Error {
        if error is EventLogError { return error }
        let whereTo = url.map { " (\($0))" } ?? ""
        guard let e = error as? PSQLError else { return EventLogError(.storage, "PostgreSQL\(whereTo): \(error)") }
        if let info = e.serverInfo {
            let state = info[.sqlState] ?? ""
            let message = info[.message] ?? "error"
            let detail = info[.detail].map { " (\($0))" } ?? ""
            switch state {
            case "3D000": return EventLogError(.notAStore, "no database \(url?.database ?? "") on the server\(whereTo): \(message)")
            case "28000", "28P01", "42501": return EventLogError(.permissionDenied, "PostgreSQL\(whereTo): \(message)")
            case "53100": return EventLogError(.storageFull, "PostgreSQL\(whereTo): \(message)")
            case "25006": return EventLogError(.readOnly, "PostgreSQL\(whereTo): \(message)")
            default: return EventLogError(.storage, "PostgreSQL\(whereTo): \(message)\(detail) [SQLSTATE \(state)]")
            }
        }
        let underlying = e.underlying.map { ": \($0)" } ?? ""
        return EventLogError(.storage, "PostgreSQL\(whereTo): \(e.code)\(underlying)")
    }
}
