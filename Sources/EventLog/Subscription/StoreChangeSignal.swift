import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Tells waiting subscribers that a store's data file may have changed: the LMDB backend's
/// ``StoreWakeSignal``.
///
/// One signal per store directory per process, shared by every subscription on it and kept
/// while at least one holds it. A dedicated thread blocks in `poll(2)` on an inotify descriptor
/// watching `data.mdb` for `IN_MODIFY` (LMDB writes pages and the meta page with `pwrite`, so
/// every commit of any process raises it); when the watch cannot be set up it wakes subscribers
/// every ``pollFallback`` instead. Commits of this process also wake subscribers directly
/// (``notifyLocalCommit(path:)``). A waiter that wakes for nothing rescans and waits again.
// @unchecked Sendable: waiters and the generation are guarded by `lock`, `references` by
// `registryLock`; the descriptors and `mode` are used by the watching thread only after `init`.
final class StoreChangeSignal: StoreWakeSignal, @unchecked Sendable {
    /// How the signal learns of changes.
    typealias Mode = StoreWakeMode

    /// Wake-up period when the file cannot be watched.
    static let pollFallback: Int32 = 1000
    /// Wake-up period even while watching, as a safety net against writers that bypass
    /// `write(2)` (for example an `MDB_WRITEMAP` writer in another process).
    static let safetyRescan: Int32 = 10_000

    let path: String
    /// The registry key: the path, with a suffix for polling-only signals.
    private let key: String
    private(set) var mode: Mode = .polling

    private let lock = NSLock()
    private var generation: UInt64 = 0
    private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiter = 0
    private var references = 0

    private var inotifyFD: Int32 = -1
    private var stopPipe: (read: Int32, write: Int32) = (-1, -1)
    private var thread: Thread?

    private init(path: String, key: String, watch: Bool) {
        self.path = path
        self.key = key
        var fds: [Int32] = [0, 0]
        if pipe(&fds) == 0 {
            stopPipe = (fds[0], fds[1])
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        }
        #if os(Linux)
        if watch {
            let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
            if fd >= 0 {
                let mask = UInt32(IN_MODIFY) | UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF)
                if inotify_add_watch(fd, path + "/data.mdb", mask) >= 0 {
                    inotifyFD = fd
                    mode = .inotify
                } else {
                    close(fd)
                }
            }
        }
        #endif
        let t = Thread { self.run() }  // holds the signal until the thread ends
        t.name = "atlas-store-watch"
        t.stackSize = 256 << 10
        thread = t
    }

    // MARK: Registry

    private static let registryLock = NSLock()
    nonisolated(unsafe) private static var registry: [String: StoreChangeSignal] = [:]

    /// The signal of the store at `path` (a standardized directory path), with one more holder.
    static func acquire(path: String, watch: Bool = true) -> StoreChangeSignal {
        registryLock.lock()
        defer { registryLock.unlock() }
        let key = watch ? path : path + "\u{0}poll"
        if let s = registry[key] {
            s.references += 1
            return s
        }
        let s = StoreChangeSignal(path: path, key: key, watch: watch)
        s.references = 1
        registry[key] = s
        s.thread?.start()
        return s
    }

    /// Gives up one hold; the watching thread stops with the last.
    func release() {
        Self.registryLock.lock()
        references -= 1
        let last = references == 0
        if last, Self.registry[key] === self { Self.registry[key] = nil }
        Self.registryLock.unlock()
        if last {
            var b: UInt8 = 1
            _ = write(stopPipe.write, &b, 1)
        }
    }

    /// Wakes the subscribers of the store at `path` in this process, if any: called after a
    /// local commit.
    static func notifyLocalCommit(path: String) {
        registryLock.lock()
        let signals = [registry[path], registry[path + "\u{0}poll"]].compactMap { $0 }
        registryLock.unlock()
        for s in signals { s.bump() }
    }

    // MARK: Waiting

    /// The current change generation: read it before scanning, then ``wait(after:)``.
    var current: UInt64 {
        lock.lock()
        defer { lock.unlock() }
        return generation
    }

    /// Wakes every waiter.
    func bump() {
        lock.lock()
        generation &+= 1
        let ws = waiters
        waiters.removeAll(keepingCapacity: true)
        lock.unlock()
        for (_, c) in ws { c.resume() }
    }

    /// Returns once the generation differs from `seen`, or the task is cancelled.
    func wait(after seen: UInt64) async {
        let id: Int = {
            lock.lock()
            defer { lock.unlock() }
            nextWaiter += 1
            return nextWaiter
        }()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                lock.lock()
                if generation != seen || Task.isCancelled {
                    lock.unlock()
                    c.resume()
                    return
                }
                waiters[id] = c
                lock.unlock()
            }
        } onCancel: {
            lock.lock()
            let c = waiters.removeValue(forKey: id)
            lock.unlock()
            c?.resume()
        }
    }

    // MARK: The watching thread

    /// Extra wake-ups after each inotify event, in milliseconds between them. LMDB raises
    /// `IN_MODIFY` when it writes the meta page but publishes the new transaction id in
    /// `lock.mdb` (shared memory, no event) just after, so a reader woken at once may still see
    /// the previous snapshot; these trailing wake-ups catch the commit once it is published.
    static let trailingWakeUps: [Int32] = [1, 2, 7, 20]

    private func run() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var trail = Self.trailingWakeUps.count
        while true {
            var fds = [pollfd(fd: stopPipe.read, events: Int16(POLLIN), revents: 0)]
            if inotifyFD >= 0 { fds.append(pollfd(fd: inotifyFD, events: Int16(POLLIN), revents: 0)) }
            let timeout = trail < Self.trailingWakeUps.count ? Self.trailingWakeUps[trail]
                : inotifyFD >= 0 ? Self.safetyRescan : Self.pollFallback
            let n = poll(&fds, nfds_t(fds.count), timeout)
            if n < 0 {
                if errno == EINTR { continue }
                usleep(UInt32(Self.pollFallback) * 1000)
                bump()
                continue
            }
            if fds[0].revents != 0 { break }
            if n == 0 {
                if trail < Self.trailingWakeUps.count { trail += 1 }
                bump()
                continue
            }
            if fds.count > 1, fds[1].revents != 0 {
                var watchGone = false
                while true {
                    let r = buffer.withUnsafeMutableBytes { read(inotifyFD, $0.baseAddress, $0.count) }
                    if r <= 0 { break }
                    // IN_DELETE_SELF / IN_MOVE_SELF / IN_IGNORED: the watch is gone; poll instead.
                    var offset = 0
                    while offset + 16 <= r {
                        let mask: UInt32 = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self) }
                        let len: UInt32 = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self) }
                        if mask & (UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF) | UInt32(IN_IGNORED)) != 0 { watchGone = true }
                        offset += 16 + Int(len)
                    }
                }
                if watchGone {
                    close(inotifyFD)
                    inotifyFD = -1
                    mode = .polling
                }
                trail = 0
                bump()
            }
        }
        if inotifyFD >= 0 { close(inotifyFD) }
        close(stopPipe.read)
        close(stopPipe.write)
    }
}
