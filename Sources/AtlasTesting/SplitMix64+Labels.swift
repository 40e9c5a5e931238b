extension SplitMix64 {
    /// A generator derived from `seed` and the given labels (FNV-1a over them), so each
    /// tenant, collection or case gets an independent, stable stream.
    package init(seed: UInt64, labels: [String]) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for label in labels {
            for byte in label.utf8 {
                h ^= UInt64(byte)
                h &*= 0x0000_0100_0000_01b3
            }
            h ^= 0xff
            h &*= 0x0000_0100_0000_01b3
        }
        self.init(seed: seed ^ h)
        _ = next()
    }
}
