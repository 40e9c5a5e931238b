/// Which of a list of projections consume an event type (``Projection/consumedEventTypes``),
/// remembered for the last type asked about.
///
/// A log's events come in long runs of one type, and the store hands the same `String`
/// storage for a type from event to event, so comparing with the last type is a pointer
/// comparison, where testing each projection's set would hash the type once per projection.
struct ProjectionFilter {
    private let sets: [Set<String>?]
    private var lastType: String?
    private var lastMask: UInt64 = 0

    init(_ projections: [any Projection]) {
        sets = projections.map(\.consumedEventTypes)
    }

    init(sets: [Set<String>?]) {
        self.sets = sets
    }

    /// Whether projection `index` consumes events of `type`; `mask` is from ``mask(for:)``.
    @inline(__always)
    func consumes(_ index: Int, mask: UInt64, type: String) -> Bool {
        index < 64 ? mask & (1 << UInt64(index)) != 0 : sets[index]?.contains(type) ?? true
    }

    /// One bit per projection (the first 64; ``consumes(_:mask:type:)`` asks the sets for the
    /// rest): set when it consumes `type`.
    mutating func mask(for type: String) -> UInt64 {
        if let lastType, lastType == type { return lastMask }
        var mask: UInt64 = 0
        for (i, set) in sets.prefix(64).enumerated() where set?.contains(type) ?? true { mask |= 1 << UInt64(i) }
        lastType = type
        lastMask = mask
        return mask
    }
}
