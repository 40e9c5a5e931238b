#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CanonicalJSON

/// The lease of the one live subscription of a named consumer, kept in the state table
/// `consumer_leases` (LMDB database `s/consumer_leases`) under the consumer's name as canonical
/// JSON:
///
/// ```json
/// {"boot_id":"…","expires_at":"…","filter":{},"holder":"<id>","host":"build-7","pid":4242,"pid_ns":4026531836,
///  "renewed_at":"…","since":"…","start_time":81234,"version":1}
/// ```
///
/// A subscription takes the lease when it opens, renews it every third of its duration while
/// it runs, and deletes it when it closes. Another subscription of the same consumer is refused
/// while the holder is alive (see ``isHolderAlive(now:)``); a dead holder's lease is taken over.
package struct ConsumerLease: Sendable, Hashable {
    /// The consumer's name.
    package var consumer: String
    /// Identifies the holding subscription (pids are reused; one process may subscribe again).
    package var holder: String
    /// The holding process.
    package var pid: Int32 { owner.pid }
    /// The holding process by boot id, PID namespace, PID and start time (see ``ProcessIdentity``).
    package var owner: ProcessIdentity
    /// The host the holding process runs on.
    package var host: String
    /// When the holder took the lease.
    package var since: Timestamp
    /// When the holder last renewed it.
    package var renewedAt: Timestamp
    /// When it lapses unless renewed.
    package var expiresAt: Timestamp
    /// The filter of the holding subscription.
    package var filter: SubscriptionFilter

    /// The record format version.
    package static let recordVersion = 1

    /// The state table holding the leases.
    package static let tableName = "consumer_leases"

    /// A lease as stored (see the members).
    ///
    /// `owner` defaults to an identity of `pid` alone, which is judged by the lease's expiry.
    package init(consumer: String, holder: String, pid: Int32, host: String, since: Timestamp, renewedAt: Timestamp,
                expiresAt: Timestamp, filter: SubscriptionFilter, owner: ProcessIdentity? = nil) {
        self.consumer = consumer
        self.holder = holder
        self.owner = owner ?? ProcessIdentity(bootID: "", pidNamespace: 0, pid: pid, startTime: 0)
        self.host = host
        self.since = since
        self.renewedAt = renewedAt
        self.expiresAt = expiresAt
        self.filter = filter
    }

    /// The canonical JSON record.
    package func record() -> [UInt8] {
        var members: [String: JSONValue] = [
            "expires_at": .string(expiresAt.description), "filter": filter.recordValue, "holder": .string(holder),
            "host": .string(host), "renewed_at": .string(renewedAt.description),
            "since": .string(since.description), "version": .number(Double(Self.recordVersion)),
        ]
        members.merge(owner.jsonMembers) { _, new in new }
        let o: JSONValue = .object(members)
        return (try? CanonicalJSON.serialize(o)) ?? []
    }

    /// Decodes a stored record; `nil` when it is malformed (such a lease holds nothing).
    package init?(consumer: String, record bytes: UnsafeRawBufferPointer) {
        guard let v = try? JSONParser().parse(bytes), let holder = v["holder"]?.stringValue,
              let owner = ProcessIdentity(json: v), let host = v["host"]?.stringValue,
              let since = v["since"]?.stringValue.flatMap({ Timestamp(rfc3339: $0) }),
              let renewed = v["renewed_at"]?.stringValue.flatMap({ Timestamp(rfc3339: $0) }),
              let expires = v["expires_at"]?.stringValue.flatMap({ Timestamp(rfc3339: $0) }),
              let filter = v["filter"].flatMap({ SubscriptionFilter(recordValue: $0) })
        else { return nil }
        self.init(consumer: consumer, holder: holder, pid: owner.pid, host: host, since: since,
                  renewedAt: renewed, expiresAt: expires, filter: filter, owner: owner)
    }

    /// Whether the holder still holds the lease at `now`: the lease has not expired and, when
    /// the holder can be looked at from here (same boot and PID namespace, see
    /// ``ProcessIdentity/liveness()``), its process with that start time still runs (for this
    /// process: the holding subscription is still open). A holder on another host, boot or PID
    /// namespace is alive until the lease expires.
    ///
    /// This is the one place that decides whether a holder is alive.
    package func isHolderAlive(now: Timestamp = .now()) -> Bool {
        if expiresAt <= now { return false }
        if owner == ProcessIdentity.current { return ActiveConsumerLeases.contains(holder) }
        switch owner.liveness() {
        case .alive, .unknown: return true
        case .dead: return false
        }
    }

    /// Who holds the lease, for messages: `pid 4242 on build-7 since 2026-…`.
    package var holderDescription: String { "pid \(pid) on \(host) since \(since)" }

    /// This machine's host name.
    package static let localHost: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(cString: buffer)
    }()
}
