/// What one read of a subscription returns: the events that passed its filter, and how far
/// the read looked.
package struct SubscriptionChunk: Sendable {
    /// The events that passed the filter, in log order.
    package var events: [RawEvent]
    /// The last position examined; `from - 1` when there was none.
    package var scannedThrough: UInt64

    package init(events: [RawEvent], scannedThrough: UInt64) {
        self.events = events
        self.scannedThrough = scannedThrough
    }
}
