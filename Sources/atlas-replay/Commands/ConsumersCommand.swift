import ArgumentParser
import CanonicalJSON
import CommandSupport
import EventLog

struct ConsumersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consumers",
        abstract: "List named consumers with their checkpoints, the head and their lag."
    )
    @OptionGroup var store: StoreOptions
    @OptionGroup var logging: LoggingOptions
    @Flag(help: "One line of JSON: {\"consumers\":[...],\"head\":N}.") var json = false

    func run() async throws {
        let log = try store.open(readOnly: true)
        let (head, consumers) = try (log.head().position, log.consumers())
        func lag(_ c: ConsumerCheckpoint) -> UInt64 { head > c.acknowledged ? head - c.acknowledged : 0 }
        if json {
            Output.json(.object([
                "head": .number(Double(head)),
                "consumers": .array(consumers.map { c in
                    .object([
                        "name": .string(c.name), "acknowledged": .number(Double(c.acknowledged)),
                        "chain": .string(c.chainHash.hex), "updated_at": .string(c.updatedAt.description),
                        "lag": .number(Double(lag(c))),
                    ])
                }),
            ]))
            return
        }
        print("head: \(head)")
        if consumers.isEmpty {
            print("no consumers")
            return
        }
        Output.table(["CONSUMER", "ACKNOWLEDGED", "LAG", "UPDATED"],
                     consumers.map { [$0.name, String($0.acknowledged), String(lag($0)), $0.updatedAt.description] })
    }
}
