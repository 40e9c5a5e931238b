/// How a subscription that has caught up learns that the log may have grown: one signal per
/// store per process, shared by its subscriptions. A waiter that wakes for nothing rescans and
/// waits again, so a signal may wake too often but must not miss a commit.
///
/// The LMDB backend's is ``StoreChangeSignal`` (inotify on the data file, polling as the
/// fallback); a server backend can use its notifications (PostgreSQL's LISTEN/NOTIFY).
package protocol StoreWakeSignal: AnyObject, Sendable {
    /// How the signal learns of commits of other processes.
    var mode: StoreWakeMode { get }

    /// The current change generation: read it before scanning, then ``wait(after:)``.
    var current: UInt64 { get }

    /// Returns once the generation differs from `seen`, or the task is cancelled.
    func wait(after seen: UInt64) async

    /// Wakes every waiter (a local commit, a close).
    func bump()

    /// Gives up the subscription's hold on the signal; the last holder's release stops it.
    func release()
}

/// How a ``StoreWakeSignal`` learns of commits of other processes.
package enum StoreWakeMode: String, Sendable {
    /// inotify on the store's data file.
    case inotify
    /// A rescan at a fixed interval (every second on LMDB; every 200 ms by default on
    /// PostgreSQL while its LISTEN connection is down).
    case polling
    /// PostgreSQL's LISTEN on the channel every commit notifies.
    case listen
}
