import ArgumentParser
import CanonicalJSON
import CommandSupport
import EventLog

struct ConsumersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consumers",
        abstract: "List named consumers with their checkpoints, the head, their lag, filter and holder.",
        discussion: """
            FILTER is the --tenant/--type filter the consumer was created with (`-`: not recorded yet; the next \
            tail adopts its filter). HOLDER is the live process following it (pid@host since when), `-` when none. \
            A consumer being followed that has acknowledged nothing yet is listed with ACKNOWLEDGED `-`.
            """
    )
    @OptionGroup var store: StoreOptions
    @OptionGroup var logging: LoggingOptions
    @Flag(help: "One line of JSON: {\"consumers\":[...],\"head\":N}.") var json = false

    /// One consumer: its checkpoint, its live lease, or both.
    struct Row {
        var name: String
        var checkpoint: ConsumerCheckpoint?
        var holder: ConsumerLease?
        var filter: SubscriptionFilter? { checkpoint?.filter ?? holder?.filter }
    }

    func run() async throws {
        let log = try store.open(readOnly: true)
        let (head, checkpoints, leases) = try (log.head().position, log.consumers(), log.consumerLeases())
        let now = Timestamp.now()
        var rows: [String: Row] = [:]
        for c in checkpoints { rows[c.name] = Row(name: c.name, checkpoint: c) }
        for l in leases where l.isHolderAlive(now: now) {
            rows[l.consumer, default: Row(name: l.consumer)].holder = l
        }
        let sorted = rows.values.sorted { $0.name < $1.name }
        func lag(_ c: ConsumerCheckpoint) -> UInt64 { head > c.acknowledged ? head - c.acknowledged : 0 }
        if json {
            Output.json(.object([
                "head": .number(Double(head)),
                "consumers": .array(sorted.map { r in
                    let c = r.checkpoint
                    return .object([
                        "name": .string(r.name),
                        "acknowledged": c.map { .number(Double($0.acknowledged)) } ?? .null,
                        "chain": c.map { .string($0.chainHash.hex) } ?? .null,
                        "updated_at": c.map { .string($0.updatedAt.description) } ?? .null,
                        "lag": c.map { .number(Double(lag($0))) } ?? .null,
                        "filter": r.filter?.recordValue ?? .null,
                        "holder": r.holder.map { h in
                            .object([
                                "pid": .number(Double(h.pid)), "host": .string(h.host), "since": .string(h.since.description),
                                "renewed_at": .string(h.renewedAt.description), "expires_at": .string(h.expiresAt.description),
                            ])
                        } ?? .null,
                    ])
                }),
            ]))
            return
        }
        print("head: \(head)")
        if sorted.isEmpty {
            print("no consumers")
            return
        }
        Output.table(["CONSUMER", "ACKNOWLEDGED", "LAG", "UPDATED", "FILTER", "HOLDER"], sorted.map { r in
            [r.name, r.checkpoint.map { String($0.acknowledged) } ?? "-", r.checkpoint.map { String(lag($0)) } ?? "-",
             r.checkpoint?.updatedAt.description ?? "-", r.filter?.summary ?? "-",
             r.holder.map { "\($0.pid)@\($0.host) since \($0.since)" } ?? "-"]
        })
    }
}
