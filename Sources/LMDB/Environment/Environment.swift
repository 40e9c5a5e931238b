import CLMDB
import Foundation

/// An open LMDB environment: one directory holding `data.mdb` and `lock.mdb`.
///
/// Reads run on the caller's thread in short `MDB_NOTLS` read transactions. Every write runs on
/// one dedicated writer thread, so a write transaction begins and commits on the same thread and
/// never spans an `await`. When a write hits `MDB_MAP_FULL` the map is doubled (up to
/// ``Configuration/maxMapSize``) and the write retried; when another process has grown the map
/// (`MDB_MAP_RESIZED`) the new size is adopted.
///
/// Open one environment per path per process: ``open(path:configuration:)`` returns the
/// environment already open for that path, and refuses to open it with other settings.
// @unchecked Sendable: the LMDB handle is thread-safe for read transactions (`MDB_NOTLS`), write
// transactions run on the writer thread, and mutable state is guarded by `dbiLock`/`resizeLock`.
package final class Environment: @unchecked Sendable {
    /// The directory of the environment.
    package let path: String
    /// The options it was opened with.
    package let configuration: Configuration

    let handle: OpaquePointer
    private let writer: WriterThread
    /// Byte-range locks keeping writers and PID namespaces apart; `nil` without a lock file.
    private let fence: StoreFence?
    /// Held shared by every transaction and exclusively while the map is resized, because a
    /// resize remaps the file under live readers.
    private let resizeLock: UnsafeMutablePointer<pthread_rwlock_t>
    /// Serializes `mdb_dbi_open`, which LMDB requires.
    private let dbiLock = NSLock()
    private var closed = false
    /// Set when a resize failed after LMDB had unmapped the file; guarded by `resizeLock`.
    private var mapLost = false
    /// When stale reader slots are next cleared (see ``ReaderCheckSchedule``).
    private let readerChecks = ReaderCheckSchedule()

    private static let registryLock = NSLock()
    nonisolated(unsafe) private static var registry: [String: WeakEnvironment] = [:]

    /// Opens (or returns the already open) environment at `path`.
    ///
    /// - Throws: ``LMDBError`` naming the path when it does not exist (and `createIfMissing` is
    ///   off), is not a directory, is not an LMDB environment, or cannot be opened; `EINVAL` when
    ///   it is already open in this process with other settings (see `requireSameSettings`).
    package static func open(path: String, configuration: Configuration = .init()) throws(LMDBError) -> Environment {
        let key = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        registryLock.lock()
        defer { registryLock.unlock() }
        if let env = registry[key]?.value, !env.closed {
            try env.requireSameSettings(configuration, openingPath: path)
            return env
        }
        let env = try Environment(path: key, configuration: configuration)
        registry[key] = WeakEnvironment(value: env)
        return env
    }

    private init(path: String, configuration: Configuration) throws(LMDBError) {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let op = "open \(path)"
        if fm.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else {
                throw LMDBError(code: ENOTDIR, operation: op, message: "not a directory")
            }
            if !fm.fileExists(atPath: path + "/data.mdb") && !configuration.createIfMissing {
                throw LMDBError(code: ENOENT, operation: op, message: "no data.mdb: not an LMDB store")
            }
        } else {
            guard configuration.createIfMissing, !configuration.readOnly else {
                throw LMDBError(code: ENOENT, operation: op, message: "no such directory")
            }
            do {
                try fm.createDirectory(atPath: path, withIntermediateDirectories: true,
                                       attributes: [.posixPermissions: 0o700])
            } catch {
                throw LMDBError(code: EACCES, operation: op, message: "cannot create directory: \(error.localizedDescription)")
            }
        }
        try Self.checkFiles(path, readOnly: configuration.readOnly, creating: configuration.createIfMissing)
        guard configuration.readOnly || configuration.useLockFile else {
            throw LMDBError(code: EINVAL, operation: op, message: "an environment opened without its lock file must be read-only")
        }
        if !configuration.readOnly && access(path, W_OK) != 0 {
            throw LMDBError(code: errno, operation: op, message: "directory is not writable")
        }

        // mdb_env_open creates lock.mdb before it looks at data.mdb: remove it again when the
        // open fails, so refusing a path that is not an environment leaves it as it was.
        let lockPath = path + "/lock.mdb"
        let lockExisted = fm.fileExists(atPath: lockPath)
        var env: OpaquePointer?
        try check(mdb_env_create(&env), "mdb_env_create")
        guard let env else { throw LMDBError(code: ENOMEM, operation: "mdb_env_create") }
        do {
            try check(mdb_env_set_maxdbs(env, MDB_dbi(configuration.maxDatabases)), "mdb_env_set_maxdbs")
            try check(mdb_env_set_maxreaders(env, configuration.maxReaders), "mdb_env_set_maxreaders")
            try check(mdb_env_set_mapsize(env, configuration.mapSize), "mdb_env_set_mapsize")
            var flags = UInt32(MDB_NOTLS)
            if configuration.readOnly { flags |= UInt32(MDB_RDONLY) }
            if !configuration.useLockFile { flags |= UInt32(MDB_NOLOCK) }
            if configuration.durability == .relaxed { flags |= UInt32(MDB_NOMETASYNC) }
            try check(mdb_env_open(env, path, flags, mdb_mode_t(configuration.fileMode)), op)
            try Self.checkOpenedDataFile(env, path: path)
            fence = configuration.useLockFile
                ? try StoreFence(path: path, env: env, writable: !configuration.readOnly) : nil
            var dead: Int32 = 0
            try check(mdb_reader_check(env, &dead), "mdb_reader_check")
            try Self.checkNotTruncated(env, path: path)
            try Self.checkMetaMapSize(env, path: path)
        } catch {
            mdb_env_close(env)
            if !lockExisted { unlink(lockPath) }
            throw error
        }
        self.handle = env
        self.path = path
        self.configuration = configuration
        self.resizeLock = .allocate(capacity: 1)
        pthread_rwlock_init(resizeLock, nil)
        self.writer = WriterThread(name: "lmdb-writer")
        // Adopt a larger size another process may have set.
        try? adoptMapSize()
    }

    /// Refuses a `data.mdb` shorter than its last committed page: LMDB maps the file and a read
    /// of a page past its end would kill the process with SIGBUS instead of reporting an error.
    /// Committed pages are written before the meta page that points at them, so a healthy file
    /// (even one another process is writing) is never shorter.
    private static func checkNotTruncated(_ env: OpaquePointer, path: String) throws(LMDBError) {
        var info = MDB_envinfo()
        var envStat = MDB_stat()
        try check(mdb_env_info(env, &info), "mdb_env_info")
        try check(mdb_env_stat(env, &envStat), "mdb_env_stat")
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path + "/data.mdb"))?[.size] as? NSNumber else { return }
        let needed = (UInt64(info.me_last_pgno) + 1) * UInt64(envStat.ms_psize)
        if size.uint64Value < needed {
            throw LMDBError(code: MDB_CORRUPTED, operation: "open \(path)",
                            message: "data.mdb is truncated: \(size.uint64Value) bytes, but its last committed page ends at byte \(needed)")
        }
    }

    /// Refuses a store whose newest meta page records a map size no process can map (see
    /// ``MetaPage``): adopting it would leave the environment without a mapping.
    private static func checkMetaMapSize(_ env: OpaquePointer, path: String) throws(LMDBError) {
        var envStat = MDB_stat()
        try check(mdb_env_stat(env, &envStat), "mdb_env_stat")
        guard let meta = MetaPage.newest(dataFile: path + "/data.mdb", pageSize: Int(envStat.ms_psize)) else { return }
        if meta.mapSize > MetaPage.largestMappable {
            throw LMDBError(code: MDB_CORRUPTED, operation: "open \(path)",
                            message: "data.mdb is damaged: its newest meta page (transaction \(meta.transactionID)) records a map size of \(meta.mapSize) bytes, more than any process can map")
        }
    }

    deinit {
        writer.stop()
        mdb_env_close(handle)
        pthread_rwlock_destroy(resizeLock)
        resizeLock.deallocate()
    }

    // MARK: Reads

    /// Runs `body` in a read-only transaction on the calling thread and ends it on return.
    ///
    /// Keep `body` short: a long read transaction pins old pages and makes the file grow.
    package func read<R>(_ body: (ReadTransaction) throws -> R) throws -> R {
        let txn = try beginTransaction(readOnly: true)
        let transaction = ReadTransaction(txn)
        defer {
            transaction.invalidate()
            mdb_txn_abort(txn)
            pthread_rwlock_unlock(resizeLock)
        }
        return try body(transaction)
    }

    /// Begins a transaction holding the resize lock shared, adopting a map size another process
    /// set (`MDB_MAP_RESIZED`) first. The caller ends the transaction and releases the lock.
    /// A full reader table (`MDB_READERS_FULL`) is retried once after clearing the slots of dead
    /// processes; stale slots are also cleared every ``ReaderCheckSchedule/interval``.
    private func beginTransaction(readOnly: Bool) throws(LMDBError) -> OpaquePointer {
        if readerChecks.takeDue() { _ = try? clearStaleReaders() }
        var clearedReaders = false
        while true {
            pthread_rwlock_rdlock(resizeLock)
            if mapLost {
                pthread_rwlock_unlock(resizeLock)
                throw LMDBError(code: MDB_PANIC, operation: "mdb_txn_begin \(path)", message: "a resize of the map failed; reopen the store")
            }
            var txn: OpaquePointer?
            let rc = mdb_txn_begin(handle, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn)
            if rc == MDB_MAP_RESIZED {
                pthread_rwlock_unlock(resizeLock)
                try adoptMapSize()
                continue
            }
            if rc == MDB_READERS_FULL && !clearedReaders {
                pthread_rwlock_unlock(resizeLock)
                clearedReaders = true
                _ = try clearStaleReaders()
                continue
            }
            guard rc == 0, let txn else {
                pthread_rwlock_unlock(resizeLock)
                throw LMDBError(code: rc, operation: "mdb_txn_begin(\(readOnly ? "read" : "write")) \(path)")
            }
            return txn
        }
    }

    // MARK: Writes

    /// Runs `body` in a write transaction on the writer thread and commits it when `body`
    /// returns; aborts it when `body` throws.
    ///
    /// `body` may run more than once: when the map fills up it is aborted, the map grown and
    /// `body` run again. Make its only effects the writes it does through the transaction.
    package func write<R: Sendable>(_ body: @escaping @Sendable (WriteTransaction) throws -> R) async throws -> R {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<R, any Error>) in
            writer.submit { [self] in
                continuation.resume(with: Result { try self.performWrite(body) })
            }
        }
    }

    /// Like ``write(_:)``, but blocks the calling thread until the transaction has committed.
    /// Do not call from an async context that must not block.
    package func writeSync<R>(_ body: (WriteTransaction) throws -> R) throws -> R {
        try writer.sync { try performWrite(body) }
    }

    /// Submits `job` to run on the writer thread after every job already submitted. `job` may
    /// call ``performWrite(_:)`` any number of times; it must not block on other writes.
    package func onWriterThread(_ job: @escaping @Sendable () -> Void) {
        writer.submit(job)
    }

    /// Runs a write transaction on the current thread, which must be the writer thread.
    /// Use from jobs given to ``onWriterThread(_:)``.
    package func performWrite<R>(_ body: (WriteTransaction) throws -> R) throws -> R {
        precondition(writer.isCurrent, "LMDB write transactions run on the writer thread only")
        if configuration.readOnly {
            throw LMDBError(code: EACCES, operation: "write \(path)", message: "environment opened read-only")
        }
        while true {
            try fence?.lockForWrite()
            defer { fence?.unlockAfterWrite() }
            let txn = try beginTransaction(readOnly: false)
            do throws(LMDBError) { try fence?.checkFollowsLastCommit(handle, txn) } catch {
                mdb_txn_abort(txn)
                pthread_rwlock_unlock(resizeLock)
                throw error
            }
            let transaction = WriteTransaction(txn)
            var mapFull = false
            do {
                let result = try body(transaction)
                transaction.invalidate()
                let crc = mdb_txn_commit(txn)
                pthread_rwlock_unlock(resizeLock)
                if crc == 0 { return result }
                if crc == MDB_MAP_FULL { mapFull = true } else {
                    throw LMDBError(code: crc, operation: "mdb_txn_commit \(path)")
                }
            } catch let error as LMDBError where error.code == MDB_MAP_FULL {
                transaction.invalidate()
                mdb_txn_abort(txn)
                pthread_rwlock_unlock(resizeLock)
                mapFull = true
            } catch {
                if transaction.isValid {
                    transaction.invalidate()
                    mdb_txn_abort(txn)
                    pthread_rwlock_unlock(resizeLock)
                }
                throw error
            }
            if mapFull { try growMap() }
        }
    }

    // MARK: Map size

    /// Doubles the map size, bounded by ``Configuration/maxMapSize``.
    private func growMap() throws(LMDBError) {
        let current = info().mapSize
        guard current < configuration.maxMapSize else {
            throw LMDBError(code: LMDBError.mapSizeLimit, operation: "grow map \(path)",
                            message: "map is full at its configured maximum of \(configuration.maxMapSize) bytes")
        }
        let next = min(current * 2, configuration.maxMapSize)
        pthread_rwlock_wrlock(resizeLock)
        defer { pthread_rwlock_unlock(resizeLock) }
        let rc = mdb_env_set_mapsize(handle, next)
        if rc != 0 && rc != EINVAL { mapLost = true }  // EINVAL is refused before unmapping
        try check(rc, "mdb_env_set_mapsize \(path)")
    }

    /// Adopts the map size another process has set, after checking on the file that it can be
    /// mapped (see ``MetaPage``): LMDB unmaps the file before it maps it at the new size, so a
    /// failed resize leaves no mapping, and every later transaction is refused instead of
    /// reading unmapped memory.
    private func adoptMapSize() throws(LMDBError) {
        pthread_rwlock_wrlock(resizeLock)
        defer { pthread_rwlock_unlock(resizeLock) }
        let op = "adopt the map size of \(path)"
        if mapLost { throw LMDBError(code: MDB_PANIC, operation: op, message: "a resize of the map failed; reopen the store") }
        var envStat = MDB_stat()
        try check(mdb_env_stat(handle, &envStat), "mdb_env_stat")
        if let meta = MetaPage.newest(dataFile: path + "/data.mdb", pageSize: Int(envStat.ms_psize)),
           meta.mapSize > MetaPage.largestMappable {
            throw LMDBError(code: MDB_CORRUPTED, operation: op,
                            message: "data.mdb is damaged: its newest meta page (transaction \(meta.transactionID)) records a map size of \(meta.mapSize) bytes, more than any process can map")
        }
        let rc = mdb_env_set_mapsize(handle, 0)
        if rc != 0 && rc != EINVAL { mapLost = true }  // EINVAL is refused before unmapping
        try check(rc, "mdb_env_set_mapsize(0) \(path)")
    }

    /// Size figures of the environment.
    package func info() -> Info {
        var info = MDB_envinfo()
        var stat = MDB_stat()
        mdb_env_info(handle, &info)
        mdb_env_stat(handle, &stat)
        return Info(
            mapSize: info.me_mapsize,
            usedBytes: (info.me_last_pgno + 1) * Int(stat.ms_psize),
            pageSize: Int(stat.ms_psize),
            readersInUse: Int(info.me_numreaders),
            lastTransactionID: info.me_last_txnid
        )
    }

    /// Flushes buffers to disk (useful in ``Durability/relaxed`` mode).
    package func sync(force: Bool = true) throws(LMDBError) {
        try check(mdb_env_sync(handle, force ? 1 : 0), "mdb_env_sync \(path)")
    }

    /// Clears reader slots left by dead processes; returns how many were cleared.
    @discardableResult
    package func clearStaleReaders() throws(LMDBError) -> Int {
        var dead: Int32 = 0
        try check(mdb_reader_check(handle, &dead), "mdb_reader_check")
        return Int(dead)
    }

    // MARK: Databases

    /// Opens (creating it when `create` is set and the environment is writable) the named
    /// database. Handles stay valid for the life of the environment. Do not call from inside a
    /// write transaction.
    ///
    /// - Returns: `nil` when the database does not exist and `create` is off.
    package func openDatabase<K: ByteCodec, V: ByteCodec>(
        _ name: String, key: K.Type = K.self, value: V.Type = V.self, create: Bool = true
    ) throws -> Database<K, V>? {
        dbiLock.lock()
        defer { dbiLock.unlock() }
        if configuration.readOnly || !create {
            // A handle opened in a read transaction survives only if that transaction commits.
            pthread_rwlock_rdlock(resizeLock)
            defer { pthread_rwlock_unlock(resizeLock) }
            var txn: OpaquePointer?
            try check(mdb_txn_begin(handle, nil, UInt32(MDB_RDONLY), &txn), "mdb_txn_begin(read) \(path)")
            var dbi: MDB_dbi = 0
            let rc = mdb_dbi_open(txn, name, 0, &dbi)
            if rc == MDB_NOTFOUND {
                mdb_txn_abort(txn)
                return nil
            }
            if rc != 0 {
                mdb_txn_abort(txn)
                throw LMDBError(code: rc, operation: "mdb_dbi_open \(name)")
            }
            try check(mdb_txn_commit(txn), "mdb_txn_commit(read) \(path)")
            return Database(name: name, dbi: dbi)
        }
        let dbi = try writer.sync { try performWrite { txn in try txn.openDBI(name, create: true) } }
        return Database(name: name, dbi: dbi)
    }

    /// Opens (creating them when missing) the named databases and runs `initialize` in one
    /// write transaction, so they appear together with their initial content or not at all.
    /// Do not call from inside a write transaction.
    package func createDatabases<K: ByteCodec, V: ByteCodec>(
        _ names: [String], key: K.Type = K.self, value: V.Type = V.self,
        initialize: (WriteTransaction, [Database<K, V>]) throws -> Void
    ) throws -> [Database<K, V>] {
        dbiLock.lock()
        defer { dbiLock.unlock() }
        return try writer.sync {
            try performWrite { txn in
                let dbs = try names.map { Database<K, V>(name: $0, dbi: try txn.openDBI($0, create: true)) }
                try initialize(txn, dbs)
                return dbs
            }
        }
    }

    /// Deletes the named database and closes its handle. Do not call from inside a write
    /// transaction; no other thread may use the handle afterwards.
    package func dropDatabase<K, V>(_ database: Database<K, V>) throws {
        dbiLock.lock()
        defer { dbiLock.unlock() }
        try writer.sync {
            try performWrite { txn in
                try txn.ensureValid()
                try check(mdb_drop(txn.pointer, database.dbi, 1), "mdb_drop \(database.name)")
            }
        }
    }

    /// The names of the named databases in the environment.
    package func databaseNames() throws -> [String] {
        try read { txn in
            var names: [String] = []
            var dbi: MDB_dbi = 0
            try check(mdb_dbi_open(txn.pointer, nil, 0, &dbi), "mdb_dbi_open(main)")
            let main = Database<UTF8String, RawBytes>(name: "(main)", dbi: dbi)
            try txn.withCursor(main) { cursor in
                var e = try cursor.first()
                while let entry = e {
                    if let n = String(validating: entry.key.assumingMemoryBound(to: UInt8.self), as: UTF8.self) {
                        names.append(n)
                    }
                    e = try cursor.next()
                }
            }
            return names
        }
    }

}

private struct WeakEnvironment {
    weak var value: Environment?
}
