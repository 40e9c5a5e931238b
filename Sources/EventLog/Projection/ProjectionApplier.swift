/// Applies events to a list of projections, for a backend outside this module: the event's
/// fields are read from its encoded form (an append) or from its stored envelope bytes (a
/// catch-up or a rebuild), and each projection sees only the event types it consumes.
package struct ProjectionApplier {
    private let projections: [any Projection]
    private var filter: ProjectionFilter
    private let memo = ProjectionEvent.Memo()
    private let strings = EnvelopeHeader.StringInterner()
    /// Errors that pass through unchanged (a backend's storage failures); any other error of a
    /// projection becomes a `projection_failed` ``EventLogError`` naming it and the position.
    private let passThrough: (any Error) -> Bool

    package init(_ projections: [any Projection], passThrough: @escaping (any Error) -> Bool = { _ in false }) {
        self.projections = projections
        self.filter = ProjectionFilter(projections)
        self.passThrough = passThrough
    }

    /// Whether there is nothing to apply.
    package var isEmpty: Bool { projections.isEmpty }

    /// Applies the event being appended at `position` with chain hash `chain`.
    package mutating func apply(_ e: EncodedEvent, position: UInt64, chain: ChainHash, to tables: any KeyValueWriter) throws {
        guard !projections.isEmpty else { return }
        try e.withJSON { json in
            try chain.withUnsafeBytes { chainBytes in
                let event = ProjectionEvent(position: position, chain: chainBytes, json: json, encoded: e, memo: memo)
                try apply(event, tables)
            }
        }
    }

    /// Applies the stored event at `position`: its canonical envelope `json` and chain hash.
    package mutating func apply(stored json: UnsafeRawBufferPointer, position: UInt64, chain: ChainHash, to tables: any KeyValueWriter) throws {
        guard !projections.isEmpty else { return }
        try chain.withUnsafeBytes { chainBytes in
            let event: ProjectionEvent
            if let h = EnvelopeHeader.read(json, strings: strings) {
                event = ProjectionEvent(position: position, chain: chainBytes, json: json, header: h, memo: memo)
            } else {
                // Not readable as an envelope: decoding names the problem.
                let encoded = try EncodedEvent.decoding(stored: Array(json), position: position)
                event = ProjectionEvent(position: position, chain: chainBytes, json: json, encoded: encoded, memo: memo)
            }
            try apply(event, tables)
        }
    }

    private mutating func apply(_ event: ProjectionEvent, _ tables: any KeyValueWriter) throws {
        let mask = filter.mask(for: event.type)
        for (i, p) in projections.enumerated() where filter.consumes(i, mask: mask, type: event.type) {
            do { try p.apply(event, to: tables) } catch {
                if passThrough(error) { throw error }
                throw EventLogError(.projectionFailed, "projection \(p.name) failed at position \(event.position): \(error)")
            }
        }
    }
}
