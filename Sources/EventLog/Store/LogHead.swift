/// The last committed position and its chain hash; position 0 with the genesis hash when the
/// log is empty.
package struct LogHead: Sendable, Hashable {
    package var position: UInt64
    package var chainHash: ChainHash

    package init(position: UInt64, chainHash: ChainHash) {
        self.position = position
        self.chainHash = chainHash
    }

    package static let empty = LogHead(position: 0, chainHash: .genesis)
}
