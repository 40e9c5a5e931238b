/// An error of the event log, with a stable code.
package struct EventLogError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as a stable, machine-readable code.
    package enum Code: String, Sendable, Hashable {
        /// The path is missing, not a directory, or not an Atlas store.
        case notAStore = "not_a_store"
        /// The store was written by a newer format version than this build understands.
        case newerFormat = "newer_format"
        /// The path cannot be read or written.
        case permissionDenied = "permission_denied"
        /// An event was rejected before anything was written (bad envelope or payload).
        case invalidEvent = "invalid_event"
        /// A stored event cannot be decoded.
        case corruptEvent = "corrupt_event"
        /// A position is beyond the head or zero.
        case positionOutOfRange = "position_out_of_range"
        /// The store is full or the disk is full.
        case storageFull = "storage_full"
        /// A consumer acknowledged beyond what was delivered, or a consumer name is invalid.
        case invalidAcknowledgement = "invalid_acknowledgement"
        /// A projection failed while applying an event.
        case projectionFailed = "projection_failed"
        /// The underlying storage reported an error.
        case storage = "storage_error"
        /// The store was opened read-only.
        case readOnly = "read_only"
        /// The store was opened with options that cannot be used.
        case invalidOptions = "invalid_options"
        /// The log is shorter than what its projections have seen (events were removed from its
        /// end): writing would reuse positions, so it is not opened for writing.
        case truncatedLog = "truncated_log"
        /// The store is shared in a way its locks cannot coordinate: by processes in different
        /// PID namespaces (containers sharing a volume), or through a `lock.mdb` removed or
        /// replaced while the store was in use. Nothing is written.
        case unsupportedSharing = "unsupported_sharing"
        /// Another live process (or subscription) holds the named consumer's lease.
        case consumerHeld = "consumer_held"
        /// The named consumer's checkpoint was recorded with another filter than the one asked for.
        case consumerFilterMismatch = "consumer_filter_mismatch"
    }

    package var code: Code
    package var message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { "\(message) [\(code.rawValue)]" }
}
