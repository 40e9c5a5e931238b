extension StoreStats {
    /// The sizes of an embedded (LMDB) store's data file.
    package struct Sizes: Sendable, Hashable {
        /// Bytes of the map in use.
        package var usedBytes: Int
        /// Bytes the data file occupies on disk.
        package var fileBytes: Int
        /// The map size.
        package var mapBytes: Int
    }
}
