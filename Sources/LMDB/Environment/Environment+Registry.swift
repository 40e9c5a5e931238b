import CLMDB
import Foundation

extension Environment {
    /// Checks that the environment already open for a path can serve an open asking for
    /// `requested`: the settings that shape an open environment (read-only or not, the lock
    /// file, durability, reader and database limits, the map size limit) must be the same.
    /// `mapSize` (a starting size: the map grows and is shared by every process) and
    /// `createIfMissing` (about creating the files, which exist) are not compared.
    ///
    /// - Throws: ``LMDBError`` `EINVAL` naming the path and each differing setting with both values.
    func requireSameSettings(_ requested: Configuration, openingPath: String) throws(LMDBError) {
        let differences = configuration.sharedSettingDifferences(from: requested)
        guard !differences.isEmpty else { return }
        throw LMDBError(code: EINVAL, operation: "open \(openingPath)",
                        message: "already open in this process with other settings: " + differences.joined(separator: ", "))
    }
}

extension Environment.Configuration {
    /// The settings of an open environment that differ from `other`, each as
    /// `name: open value, requested value`.
    func sharedSettingDifferences(from other: Self) -> [String] {
        var out: [String] = []
        func compare<T: Equatable>(_ name: String, _ a: T, _ b: T) {
            if a != b { out.append("\(name) \(a) (open) vs \(b) (requested)") }
        }
        compare("readOnly", readOnly, other.readOnly)
        compare("useLockFile", useLockFile, other.useLockFile)
        compare("durability", durability, other.durability)
        compare("maxReaders", maxReaders, other.maxReaders)
        compare("maxDatabases", maxDatabases, other.maxDatabases)
        compare("maxMapSize", maxMapSize, other.maxMapSize)
        return out
    }
}
