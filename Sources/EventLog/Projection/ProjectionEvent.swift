/// An event as a projection sees it: its position, header fields and stored canonical bytes,
/// decoded into an ``EventEnvelope`` only when the projection asks.
///
/// Projections on hot paths read the fields they need straight from ``data`` (the payload's
/// canonical JSON); the others call ``decoded()``. The byte views are valid only during
/// ``Projection/apply(_:to:)``.
package struct ProjectionEvent {
    /// Gapless position, starting at 1.
    package let position: UInt64
    /// The event type.
    package let type: String
    /// The tenant the event belongs to.
    package let tenant: String
    /// The canonical envelope JSON.
    package let json: UnsafeRawBufferPointer
    let dataRange: Range<Int>
    let chainBytes: UnsafeRawBufferPointer
    let recorded: Timestamp?
    /// Where `recorded_at` lies in ``json`` (quotes included), when ``recorded`` is not known.
    let recordedRange: Range<Int>?
    let envelope: EventEnvelope?
    @usableFromInline let memo: Memo

    /// - Parameter keepingMemo: leave what `memo` holds (values prepared ahead); otherwise it
    ///   is emptied for this event.
    init(position: UInt64, chain: UnsafeRawBufferPointer, type: String, tenant: String, json: UnsafeRawBufferPointer,
         dataRange: Range<Int>, recordedAt: Timestamp?, recordedRange: Range<Int>? = nil, envelope: EventEnvelope?, memo: Memo,
         keepingMemo: Bool = false) {
        self.position = position
        self.chainBytes = chain
        self.type = type
        self.tenant = tenant
        self.json = json
        self.dataRange = dataRange
        self.recorded = recordedAt
        self.recordedRange = recordedRange
        self.envelope = envelope
        self.memo = memo
        if !keepingMemo { memo.reset() }
    }

    /// An event read from the log whose header ``EnvelopeHeader`` found.
    init(position: UInt64, chain: UnsafeRawBufferPointer, json: UnsafeRawBufferPointer, header h: EnvelopeHeader, memo: Memo,
         keepingMemo: Bool = false) {
        self.init(position: position, chain: chain, type: h.type, tenant: h.tenant, json: json, dataRange: h.dataRange,
                  recordedAt: nil, recordedRange: h.recordedAtRange, envelope: nil, memo: memo, keepingMemo: keepingMemo)
    }

    init(position: UInt64, chain: UnsafeRawBufferPointer, json: UnsafeRawBufferPointer, encoded e: EncodedEvent, memo: Memo) {
        self.init(position: position, chain: chain, type: e.type, tenant: e.tenant, json: json, dataRange: e.dataRange,
                  recordedAt: e.recordedAt, envelope: e.envelope, memo: memo)
        if let hint = e.hint {
            memo.key = hint.key
            memo.box = hint.box
        }
    }

    /// What `read` returns for this event, computed once however many projections ask: for
    /// payload fields several projections read.
    ///
    /// Inlinable, so that it is specialized where it is called: a generic call would look up
    /// `Box<T>`'s metadata at run time for every event.
    @inlinable
    package func memoized<T>(_ read: () throws -> T) rethrows -> T {
        let key = ObjectIdentifier(T.self)
        if memo.key == key, let box = memo.box { return unsafeDowncast(box, to: Box<T>.self).value }
        let value = try read()
        memo.key = key
        memo.box = Box(value)
        return value
    }

    /// One slot, reused from event to event by the store: a value of the type `key` names.
    /// (A hint's box is shared with the ``EncodedEvent`` that carried it; boxes are immutable
    /// and made only from `Sendable` values.)
    @usableFromInline
    final class Memo {
        // Each memo is used by one thread at a time (handed over with its batch), so run-time
        // exclusivity checks on every access buy nothing.
        @exclusivity(unchecked) @usableFromInline var key: ObjectIdentifier?
        @exclusivity(unchecked) @usableFromInline var box: AnyObject?

        @usableFromInline init() {}

        func reset() {
            key = nil
            box = nil
        }
    }

    // @unchecked Sendable: the value is immutable, set by `prepare` and read by `apply` of the same
    // event, which run one after the other.
    @usableFromInline
    final class Box<T>: @unchecked Sendable {
        @usableFromInline let value: T
        @usableFromInline init(_ value: T) { self.value = value }
    }

    /// The payload: the canonical JSON of the `data` object.
    package var data: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: json[dataRange]) }

    /// The chain hash after this event.
    package var chainHash: ChainHash { ChainHash(unchecked: chainBytes) }

    /// When the event was recorded.
    package func recordedAt() throws(EventLogError) -> Timestamp {
        if let recorded { return recorded }
        if let r = recordedRange, let t = EnvelopeHeader.recordedAt(in: json, r) { return t }
        return try decoded().envelope.recordedAt
    }

    /// The whole event, decoded.
    package func decoded() throws(EventLogError) -> RecordedEvent {
        if let envelope { return RecordedEvent(position: position, chainHash: chainHash, envelope: envelope) }
        return RecordedEvent(position: position, chainHash: chainHash,
                             envelope: try EventEnvelope(canonicalJSON: Array(json), position: position))
    }
}
