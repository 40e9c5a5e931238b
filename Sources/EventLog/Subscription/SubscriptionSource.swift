/// What an ``EventSubscription`` needs of its store: filtered reads after a position, a named
/// consumer's checkpoint writes and lease renewal and release, and a ``StoreWakeSignal``.
/// Each backend implements it; the subscription's behaviour (chunking, acknowledgement,
/// at-least-once delivery) is the same on all of them.
package protocol SubscriptionSource: AnyObject, Sendable {
    /// Reads, in one short read transaction, the events from `from` that pass `filter`: up to
    /// ``SubscriptionOptions/chunkSize`` of them (or ``SubscriptionOptions/chunkBytes``),
    /// examining at most ``SubscriptionOptions/scanLimit`` events.
    func readSubscriptionChunk(from: UInt64, filter: CompiledFilter, options: SubscriptionOptions) throws -> SubscriptionChunk

    /// Moves the named consumer's checkpoint forward to `position` (an older position leaves it
    /// as it is). With a `holder`, refused (`consumer_held`) unless that subscription still
    /// holds the consumer's lease. The record keeps its filter, or records `filter`.
    func advanceConsumerCheckpoint(_ name: String, to position: UInt64, filter: SubscriptionFilter, holder: String?) async throws

    /// Like ``advanceConsumerCheckpoint(_:to:filter:holder:)`` without waiting or reporting a
    /// failure: for a subscription dropped without ``EventSubscription/close()``. Runs before a
    /// ``releaseConsumerLeaseLater(_:holder:)`` requested after it.
    func advanceConsumerCheckpointLater(_ name: String, to position: UInt64, filter: SubscriptionFilter, holder: String?)

    /// Extends the lease `holder` holds by `duration` from the store's clock; `consumer_held`
    /// when another holder has taken it over.
    func renewConsumerLease(_ name: String, holder: String, duration: Duration) async throws

    /// Deletes the consumer's lease when `holder` still holds it.
    func releaseConsumerLease(_ name: String, holder: String) async throws

    /// Like ``releaseConsumerLease(_:holder:)`` without waiting, after every write already
    /// requested (such as the last checkpoint).
    func releaseConsumerLeaseLater(_ name: String, holder: String)

    /// The store's wake signal, with one more holder (the subscription calls
    /// ``StoreWakeSignal/release()`` once). `watch` off asks for polling only.
    func acquireWakeSignal(watch: Bool) -> any StoreWakeSignal
}
