import CLMDB
import Foundation

extension Environment {
    /// The files LMDB opens in an environment directory.
    static let storeFiles = ["data.mdb", "lock.mdb"]

    /// Checks an environment directory before LMDB opens its files (LMDB opens them itself, by
    /// name, following symbolic links):
    ///
    /// * `data.mdb` and `lock.mdb`, when present, must be regular files, never symbolic links:
    ///   a planted `lock.mdb -> victim` would otherwise have LMDB write its lock table into the
    ///   victim;
    /// * for an open that may write, the directory and those files must belong to this user and
    ///   not be writable by group or others. That also closes the window between this check and
    ///   LMDB's open: nobody else can replace a file in a directory only its owner may write.
    ///
    /// A new environment in an existing directory tightens the directory to 0700 first.
    /// Read-only opens of another user's copy are allowed.
    static func checkFiles(_ path: String, readOnly: Bool, creating: Bool) throws(LMDBError) {
        if creating && !readOnly {
            var st = stat()
            if lstat(path + "/data.mdb", &st) != 0 && errno == ENOENT, stat(path, &st) == 0, st.st_uid == geteuid(),
               st.st_mode & 0o077 != 0 {
                chmod(path, 0o700)
            }
        }
        for name in storeFiles {
            let file = path + "/" + name
            var st = stat()
            guard lstat(file, &st) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFREG: break
            case S_IFLNK:
                throw LMDBError(code: ELOOP, operation: "open \(file)",
                                message: "\(file) is a symbolic link; a store's files must be regular files (remove the link: `rm \(file)`)")
            default:
                throw LMDBError(code: EPERM, operation: "open \(file)", message: "\(file) is not a regular file")
            }
            if !readOnly { try checkOwnership(file, st, directory: false) }
        }
        if !readOnly {
            var st = stat()
            guard stat(path, &st) == 0 else { throw LMDBError(code: errno, operation: "open \(path)", message: "cannot stat the directory") }
            try checkOwnership(path, st, directory: true)
        }
    }

    /// After LMDB has opened the environment: the data file it holds open must still be the
    /// regular file `data.mdb` names, so a file swapped for a symbolic link between
    /// ``checkFiles(_:readOnly:creating:)`` and the open is caught before anything is read.
    static func checkOpenedDataFile(_ env: OpaquePointer, path: String) throws(LMDBError) {
        var fd: mdb_filehandle_t = -1
        guard mdb_env_get_fd(env, &fd) == 0, fd >= 0 else { return }
        var opened = stat(), named = stat()
        let file = path + "/data.mdb"
        guard fstat(fd, &opened) == 0, lstat(file, &named) == 0, named.st_mode & S_IFMT == S_IFREG,
              opened.st_dev == named.st_dev, opened.st_ino == named.st_ino else {
            throw LMDBError(code: ELOOP, operation: "open \(file)",
                            message: "\(file) was replaced while it was being opened (by a symbolic link or another file); refusing it")
        }
    }

    /// Refuses, for writing, a path owned by another user or writable by group or others,
    /// naming the command that fixes it.
    private static func checkOwnership(_ path: String, _ st: stat, directory: Bool) throws(LMDBError) {
        let me = geteuid()
        if st.st_uid != me {
            throw LMDBError(code: EPERM, operation: "open \(path)",
                            message: "\(path) is owned by uid \(st.st_uid), not by this user (uid \(me)); refusing to write to it. Run as its owner, or take it over: `chown -R \(me) \(directory ? path : (path as NSString).deletingLastPathComponent)`")
        }
        if st.st_mode & 0o022 != 0 {
            let mode = String(st.st_mode & 0o7777, radix: 8)
            throw LMDBError(code: EACCES, operation: "open \(path)",
                            message: "\(path) is writable by group or others (mode 0\(mode)); refusing to write to it. Fix: `chmod \(directory ? "700" : "600") \(path)`")
        }
    }
}
