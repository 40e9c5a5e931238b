extension EncodedEvent {
    /// The chain hash of this event at `position` after `previous`, in store format `format`
    /// (see ``ChainHash``), using the digest computed when the event was made if there is one.
    package func chainHash(after previous: ChainHash, position: UInt64, format: Int) -> ChainHash {
        format >= 2
            ? ChainHash.next(after: previous, position: position, digest: digest ?? withJSON { EventDigest(json: $0) })
            : withJSON { ChainHash.next(after: previous, position: position, json: $0) }
    }
}
