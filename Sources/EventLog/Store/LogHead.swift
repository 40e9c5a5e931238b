/// The last committed position and its chain hash; position 0 with the genesis hash when the
/// log is empty.
public struct LogHead: Sendable, Hashable {
    public var position: UInt64
    public var chainHash: ChainHash

    public init(position: UInt64, chainHash: ChainHash) {
        self.position = position
        self.chainHash = chainHash
    }

    public static let empty = LogHead(position: 0, chainHash: .genesis)
}
