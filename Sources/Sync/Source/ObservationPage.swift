package import Inventory

/// A page of one policy type as a source hands it to its ``SourceSink``: the observations the
/// sink's encoder made, and the items it refused, each in the order they were read.
package struct ObservationPage: Sendable {
    /// The `item_observed` events of the page's items, ready to append.
    package var observations: [ObservationEncoder.Encoded]
    /// The items that cannot be observed, each with why; a run records each as
    /// `graph_item_invalid` against the page's type.
    package var rejected: [ItemObserved.Rejection]

    package init(observations: [ObservationEncoder.Encoded] = [], rejected: [ItemObserved.Rejection] = []) {
        self.observations = observations
        self.rejected = rejected
    }

    /// Whether the page holds nothing.
    package var isEmpty: Bool { observations.isEmpty && rejected.isEmpty }

    /// The page of `items`, encoded with `encoder` on every core.
    ///
    /// - Throws: the first error other than an ``ItemObserved/Rejection`` (an event that cannot
    ///   be written).
    package init(encoding items: [GraphObject], with encoder: ObservationEncoder) throws {
        try self.init(built: ParallelMap.map(items) { item in Result { try encoder.encode(item) } })
    }

    /// The page of the Graph objects whose canonical JSON lies at `objects` in `canonical` (a
    /// page's items as ``GraphObject`` would hold them, read in place), encoded with `encoder`
    /// on every core.
    ///
    /// - Throws: as ``init(encoding:with:)``.
    package init(encoding canonical: [UInt8], objects: [Range<Int>], with encoder: ObservationEncoder) throws {
        let built = canonical.withUnsafeBytes { b in
            ParallelMap.map(objects) { r in Result { try encoder.encode(canonicalObject: UnsafeRawBufferPointer(rebasing: b[r])) } }
        }
        try self.init(built: built)
    }

    /// The page of what encoding each item gave, in order.
    private init(built: [Result<ObservationEncoder.Encoded, any Error>]) throws {
        self.init()
        observations.reserveCapacity(built.count)
        for result in built {
            switch result {
            case .success(let o): observations.append(o)
            case .failure(let rejection as ItemObserved.Rejection): rejected.append(rejection)
            case .failure(let error): throw error
            }
        }
    }
}
