package import Foundation

/// A PostgreSQL server for tests: the one `ATLAS_TEST_POSTGRES_URL` names, or a throwaway
/// cluster this process makes (`initdb -A trust` in a temporary directory) and starts on a
/// free loopback port, once, stopping it when the process exits. Each test gets a database of
/// its own from ``createDatabase(_:)``.
///
/// It never touches a cluster it did not start. When no PostgreSQL can be found or started,
/// ``shared()`` throws an error saying why (tests fail, they are not skipped).
///
/// Every call is `async` and runs its commands (`initdb`, `pg_ctl`, `psql`) on a queue of
/// its own: a test waiting for them never holds one of Swift's cooperative threads, which the
/// other tests running at the same time (and their in-process servers) need. Starting the
/// cluster takes tens of seconds on a small machine.
package final class PostgresTestCluster: Sendable {
    /// A URL of the server's `postgres` database (no password: trust authentication, or the
    /// one `ATLAS_TEST_POSTGRES_URL` carries).
    package let serverURL: String
    /// The `psql` to run against it.
    package let psql: String

    private init(serverURL: String, psql: String) {
        self.serverURL = serverURL
        self.psql = psql
    }

    package struct Failure: Error, CustomStringConvertible {
        package var description: String
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var started: Result<PostgresTestCluster, Failure>?
    /// The cluster to stop at exit: its `pg_ctl`, data directory and whether to run as `postgres`.
    nonisolated(unsafe) private static var stopCommand: [String]?
    nonisolated(unsafe) private static var temporaryDirectory: String?

    /// The queue the commands run on, off the cooperative pool.
    private static let commands = DispatchQueue(label: "atlas.test-postgres", attributes: .concurrent)

    /// Runs `body` on ``commands`` and waits for it without blocking the caller's thread.
    private static func offPool<R: Sendable>(_ body: @escaping @Sendable () throws -> R) async throws -> R {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<R, any Error>) in
            commands.async { c.resume(with: Result { try body() }) }
        }
    }

    /// The server for this test process, started on first use.
    package static func shared() async throws -> PostgresTestCluster {
        try await offPool { try startedOnce() }
    }

    private static func startedOnce() throws -> PostgresTestCluster {
        lock.lock()
        defer { lock.unlock() }
        if let started { return try started.get() }
        let r: Result<PostgresTestCluster, Failure>
        do { r = .success(try start()) } catch let e as Failure { r = .failure(e) } catch {
            r = .failure(Failure(description: "\(error)"))
        }
        started = r
        return try r.get()
    }

    /// Makes a fresh database (named after `label`, unique in this run) and returns its URL.
    package func createDatabase(_ label: String = "test") async throws -> String {
        try await Self.offPool { try self.createDatabaseNow(label) }
    }

    private func createDatabaseNow(_ label: String) throws -> String {
        let clean = label.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
        let name = "atlas_\(String(clean.prefix(30)))_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        try run(psql, [serverURL, "-v", "ON_ERROR_STOP=1", "-qc", "CREATE DATABASE \(name)"])
        return Self.url(serverURL, database: name)
    }

    /// Runs `sql` with psql on the database at `url` and returns what it prints (unaligned,
    /// tuples only, `|` between columns).
    package func query(_ url: String, _ sql: String) async throws -> String {
        try await Self.offPool { try self.run(self.psql, [url, "-v", "ON_ERROR_STOP=1", "-AtXq", "-c", sql]) }
    }

    /// `url` with its database replaced.
    static func url(_ url: String, database: String) -> String {
        var base = url
        var query = ""
        if let q = base.firstIndex(of: "?") {
            query = String(base[q...])
            base = String(base[..<q])
        }
        let afterScheme = base.range(of: "://")!.upperBound
        if let slash = base[afterScheme...].firstIndex(of: "/") { base = String(base[..<slash]) }
        return base + "/" + database + query
    }

    // MARK: Starting

    private static func start() throws -> PostgresTestCluster {
        let env = ProcessInfo.processInfo.environment
        let psql = try findTool("psql", near: nil)
        if let url = env["ATLAS_TEST_POSTGRES_URL"], !url.isEmpty {
            let cluster = PostgresTestCluster(serverURL: url, psql: psql)
            do { _ = try cluster.run(psql, [url, "-AtXqc", "SELECT 1"]) } catch {
                throw Failure(description: "ATLAS_TEST_POSTGRES_URL names a server that cannot be used: \(error)")
            }
            return cluster
        }
        let initdb = try findTool("initdb", near: nil)
        let bin = URL(fileURLWithPath: initdb).resolvingSymlinksInPath().deletingLastPathComponent().path
        let pgCtl = try findTool("pg_ctl", near: bin)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("atlas-pg-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        temporaryDirectory = dir
        atexit { PostgresTestCluster.stopAtExit() }
        var prefix: [String] = []
        if geteuid() == 0 {
            // The server refuses to run as root: run it as `postgres`, which must own the directory.
            guard let pw = getpwnam("postgres") else {
                throw Failure(description: "running as root and there is no `postgres` user to run the test cluster as")
            }
            guard chown(dir, pw.pointee.pw_uid, pw.pointee.pw_gid) == 0 else {
                throw Failure(description: "cannot give \(dir) to the postgres user: \(String(cString: strerror(errno)))")
            }
            prefix = ["/usr/sbin/runuser", "-u", "postgres", "--"]
            if !FileManager.default.isExecutableFile(atPath: prefix[0]) { prefix[0] = "/sbin/runuser" }
        }
        let data = dir + "/data"
        do {
            try runCommand(prefix + [initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"])
        } catch {
            throw Failure(description: "initdb failed: \(error)")
        }
        var lastError = ""
        for _ in 0..<3 {
            let port = try freePort()
            let options = "-p \(port) -k \(dir) -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200"
            do {
                try runCommand(prefix + [pgCtl, "-D", data, "-o", options, "-l", dir + "/server.log", "-w", "-t", "60", "start"])
                stopCommand = prefix + [pgCtl, "-D", data, "-m", "immediate", "-w", "stop"]
                return PostgresTestCluster(serverURL: "postgres://postgres@127.0.0.1:\(port)/postgres?sslmode=disable", psql: psql)
            } catch {
                lastError = "\(error)"
                let log = (try? String(contentsOfFile: dir + "/server.log", encoding: .utf8)) ?? ""
                lastError += "\n" + log.split(separator: "\n").suffix(10).joined(separator: "\n")
            }
        }
        throw Failure(description: "the test PostgreSQL cluster in \(dir) did not start: \(lastError)")
    }

    /// Stops the cluster this process started, and removes its directory.
    private static func stopAtExit() {
        if let stopCommand { try? runCommand(stopCommand) }
        if let temporaryDirectory { try? FileManager.default.removeItem(atPath: temporaryDirectory) }
    }

    /// `name` on `PATH` (or in `directory` first), then in the newest `/usr/lib/postgresql/*/bin`.
    package static func findTool(_ name: String, near directory: String?) throws -> String {
        let fm = FileManager.default
        var candidates: [String] = directory.map { [$0] } ?? []
        candidates += (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        let versions = ((try? fm.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).sorted {
            (Int($0) ?? 0) > (Int($1) ?? 0)
        }
        candidates += versions.map { "/usr/lib/postgresql/\($0)/bin" }
        for d in candidates where fm.isExecutableFile(atPath: d + "/" + name) { return d + "/" + name }
        throw Failure(description: "no PostgreSQL found: `\(name)` is not on PATH or in /usr/lib/postgresql/*/bin (install Debian's postgresql package, or set ATLAS_TEST_POSTGRES_URL to a server the tests may create databases on)")
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw Failure(description: "cannot find a free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    private func run(_ tool: String, _ arguments: [String]) throws -> String {
        try Self.runCommand([tool] + arguments)
    }

    /// Runs `command`, returning its standard output; throws with its output when it fails.
    /// Its output goes to temporary files, not pipes: `pg_ctl start` leaves a server running
    /// that would hold a pipe open, and the child is awaited with `waitpid`.
    @discardableResult
    package static func runCommand(_ command: [String]) throws -> String {
        let base = NSTemporaryDirectory() + "atlas-pgcmd-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let outPath = base + ".out", errPath = base + ".err"
        defer {
            unlink(outPath)
            unlink(errPath)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // Readable by the `postgres` user too, which some commands run as.
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
        let argv = command.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, command[0], &actions, nil, argv, environ)
        guard rc == 0 else { throw Failure(description: "cannot run \(command[0]): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        let exited = status & 0x7f == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            throw Failure(description: "`\(command.joined(separator: " "))` \(exited ? "exited with \(code)" : "was killed"): \(stderr)\(stdout)")
        }
        return stdout
    }
}
