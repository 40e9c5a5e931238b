/// What a rebuild held in memory (``LMDBEventStore/rebuildSync(named:progress:chunk:memoryLimit:)``).
package struct RebuildMemoryUse: Sendable, Equatable {
    /// The most bytes of new table rows held at once: an estimate (key and value bytes and a
    /// fixed overhead per row).
    package var peakBytes: Int
    /// How many times the rows outgrew the memory limit and were written out before the end.
    package var spills: Int

    package init(peakBytes: Int, spills: Int) {
        self.peakBytes = peakBytes
        self.spills = spills
    }
}
