import CLMDB
import Foundation

/// Byte-range locks on `data.mdb` that keep processes apart where `lock.mdb` cannot:
///
/// * **Writer fence.** A process takes an exclusive lock on one byte of `data.mdb` for each
///   write transaction and releases it after the commit, so two writers never write the data
///   file at once even when they no longer share a lock file (`lock.mdb` deleted or replaced
///   under a live writer). A second writer waits for the first, as it waits for LMDB's own
///   writer lock. Before each write transaction the process also checks that `lock.mdb` is
///   still the file it opened (one `stat`), and after beginning it checks that its lock table
///   has seen the data file's last commit; either failing stops the write with
///   ``LMDBError/lockFileReplaced``.
/// * **Namespace fence.** Each process holding the environment keeps a shared lock on the byte
///   at ``namespaceBase`` + the inode of its PID namespace. LMDB identifies readers by PID, which
///   means nothing across PID namespaces, so an open that finds a byte of another namespace
///   held is refused with ``LMDBError/sharedAcrossPIDNamespaces``.
///
/// The locks are Linux open file description locks (`F_OFD_SETLK`) on a descriptor of this
/// type's own: they belong to that descriptor, not to the process, so closing any other
/// descriptor of the file does not drop them, and they vanish when the process dies. They lie
/// far beyond the end of the file and touch no data. Opens without a lock file (`MDB_NOLOCK`,
/// read-only copies) take none.
final class StoreFence: Sendable {
    /// The byte a writer locks exclusively around each write transaction.
    static let writerByte: off_t = 1 << 40
    /// The start of the bytes processes lock per PID namespace (offset = base + namespace inode).
    static let namespaceBase: off_t = 1 << 41
    /// How many bytes the namespace region spans (namespace inodes are 32-bit numbers).
    static let namespaceSpan: off_t = 1 << 32

    // Linux fcntl commands for open file description locks (the same on every architecture).
    private static let getLock: Int32 = 36  // F_OFD_GETLK
    private static let setLock: Int32 = 37  // F_OFD_SETLK
    private static let setLockWait: Int32 = 38  // F_OFD_SETLKW

    let path: String
    private let fd: Int32
    private let writable: Bool
    /// `st_dev`/`st_ino` of `lock.mdb` as this process opened it.
    private let lockFile: (dev: UInt64, ino: UInt64)?

    /// Opens the fence for an environment LMDB has just opened with its lock file, and takes
    /// the namespace lock.
    ///
    /// - Throws: ``LMDBError/sharedAcrossPIDNamespaces`` when a process of another PID
    ///   namespace holds the environment.
    init(path: String, env: OpaquePointer, writable: Bool) throws(LMDBError) {
        self.path = path
        self.writable = writable
        let data = path + "/data.mdb"
        let fd = open(data, (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw LMDBError(code: errno, operation: "open \(data)", message: "cannot open the data file for its locks: \(String(cString: strerror(errno)))") }
        self.fd = fd
        // The descriptor must be the file LMDB opened.
        var lmdbFD: mdb_filehandle_t = -1
        var mine = stat(), lmdbs = stat()
        if mdb_env_get_fd(env, &lmdbFD) == 0, lmdbFD >= 0, fstat(lmdbFD, &lmdbs) == 0, fstat(fd, &mine) == 0,
           mine.st_dev != lmdbs.st_dev || mine.st_ino != lmdbs.st_ino {
            close(fd)
            throw LMDBError(code: ELOOP, operation: "open \(data)", message: "\(data) was replaced while it was being opened; refusing it")
        }
        var lock = stat()
        lockFile = stat(path + "/lock.mdb", &lock) == 0 ? (UInt64(lock.st_dev), UInt64(lock.st_ino)) : nil
        do {
            try holdNamespace()
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    // MARK: Namespace fence

    /// The inode of this process's PID namespace, or `nil` without `/proc`.
    static var pidNamespace: UInt64? {
        var st = stat()
        guard stat("/proc/self/ns/pid", &st) == 0 else { return nil }
        return UInt64(st.st_ino)
    }

    /// Takes the shared lock on this namespace's byte, then looks for a lock on any other
    /// namespace's byte.
    private func holdNamespace() throws(LMDBError) {
        guard let ns = Self.pidNamespace, off_t(ns) < Self.namespaceSpan else { return }
        let own = Self.namespaceBase + off_t(ns)
        guard lock(F_RDLCK, at: own, length: 1, wait: false) else {
            throw LMDBError(code: errno, operation: "lock \(path)/data.mdb", message: "cannot take the namespace lock: \(String(cString: strerror(errno)))")
        }
        for (start, length) in [(Self.namespaceBase, own - Self.namespaceBase),
                                (own + 1, Self.namespaceBase + Self.namespaceSpan - own - 1)] where length > 0 {
            var query = Glibc.flock()
            query.l_type = Int16(F_WRLCK)
            query.l_whence = Int16(SEEK_SET)
            query.l_start = start
            query.l_len = length
            guard fcntl(fd, Self.getLock, &query) == 0 else { continue }
            if query.l_type != Int16(F_UNLCK) {
                let other = query.l_start - Self.namespaceBase
                throw LMDBError(
                    code: LMDBError.sharedAcrossPIDNamespaces, operation: "open \(path)",
                    message: "the store is in use by a process in another PID namespace (pid:[\(other)]; this process is in pid:[\(ns)]), for example another container sharing the volume. LMDB's lock table identifies processes by PID, which cannot work across PID namespaces, so this open is refused. Use the store from one PID namespace at a time (one container, or containers sharing the host's PID namespace)")
            }
        }
    }

    // MARK: Writer fence

    /// Before a write transaction: checks that `lock.mdb` is the file this process opened, then
    /// takes the writer lock, waiting while another process holds it.
    func lockForWrite() throws(LMDBError) {
        guard writable else { return }
        if let opened = lockFile {
            var st = stat()
            let file = path + "/lock.mdb"
            let present = stat(file, &st) == 0
            if !present || UInt64(st.st_dev) != opened.dev || UInt64(st.st_ino) != opened.ino {
                throw LMDBError(
                    code: LMDBError.lockFileReplaced, operation: "write \(path)",
                    message: "\(file) was \(present ? "replaced by another file" : "removed") while this process had the store open, so LMDB's locks no longer coordinate this process with others; it stops writing. Nothing committed is lost. Stop every process using the store, then start again (never delete lock.mdb while the store is in use)")
            }
        }
        while !lock(F_WRLCK, at: Self.writerByte, length: 1, wait: true) {
            guard errno == EINTR else {
                throw LMDBError(code: errno, operation: "lock \(path)/data.mdb", message: "cannot take the writer lock: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// After a write transaction has committed or aborted: releases the writer lock.
    func unlockAfterWrite() {
        guard writable else { return }
        _ = lock(F_UNLCK, at: Self.writerByte, length: 1, wait: false)
    }

    /// Inside a write transaction just begun: the transaction must follow the data file's last
    /// commit. It does not when another process wrote through a different `lock.mdb`, whose
    /// transaction counter this process's lock table never saw; writing on would overwrite
    /// that commit.
    func checkFollowsLastCommit(_ env: OpaquePointer, _ txn: OpaquePointer) throws(LMDBError) {
        guard writable else { return }
        var info = MDB_envinfo()
        guard mdb_env_info(env, &info) == 0 else { return }
        let next = mdb_txn_id(txn)
        if next != info.me_last_txnid + 1 {
            throw LMDBError(
                code: LMDBError.lockFileReplaced, operation: "write \(path)",
                message: "another process committed to \(path)/data.mdb through a different lock.mdb (transaction \(info.me_last_txnid); this process's lock table is at \(next - 1)): the lock file was removed or replaced while the store was in use. Refusing to write, which would overwrite that commit. Stop every process using the store, then start again")
        }
    }

    /// Sets (or clears) an open file description lock; `false` with `errno` set on failure.
    private func lock(_ type: Int32, at start: off_t, length: off_t, wait: Bool) -> Bool {
        var fl = Glibc.flock()
        fl.l_type = Int16(type)
        fl.l_whence = Int16(SEEK_SET)
        fl.l_start = start
        fl.l_len = length
        fl.l_pid = 0
        return fcntl(fd, wait ? Self.setLockWait : Self.setLock, &fl) == 0
    }
}
