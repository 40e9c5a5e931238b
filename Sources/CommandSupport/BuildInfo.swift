import EventLog

/// What `--version` prints: this build's version and the store format it writes.
package enum BuildInfo {
    /// The release version of the Atlas command-line tools.
    package static let version = "0.9.0"

    /// `atlas <version> (store format <n>)`.
    package static var versionText: String { "\(version) (store format \(LMDBEventStore.newestFormat))" }
}
