/// How durable each commit of the log is.
package enum Durability: String, Sendable, Hashable, CaseIterable {
    /// Every commit is on disk before the append returns. The default.
    case durable
    /// A system crash (not a process crash) may undo the last commit; the store is never
    /// corrupted. Faster on slow disks.
    case relaxed
}
