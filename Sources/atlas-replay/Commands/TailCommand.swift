import ArgumentParser
import CommandSupport

struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print events as NDJSON as they are committed, following the log.",
        discussion: """
            Each line is {"position":N,"chain":"<hex>","envelope":{...}} with the envelope exactly as stored. \
            Without --consumer or --from, starts with the next event committed. With --consumer NAME, resumes \
            after the consumer's durable checkpoint (for a new consumer: at --from, or with the next event) and \
            acknowledges each line once it is written; the checkpoint is written at most 200 ms later and on exit. \
            Ctrl-C or SIGTERM exits 0 after writing the checkpoint. A consumer runs in one process at a time \
            (another tail of it exits 2 naming the holder's pid, host and start) and keeps the --tenant/--type \
            filter it was created with (another filter exits 2 naming both; --reset starts it again).
            """
    )
    @OptionGroup var store: StoreOptions
    @OptionGroup var logging: LoggingOptions
    @Option(help: "Only this tenant's events.") var tenant: String?
    @Option(name: .customLong("type"), help: "Only events whose type starts with this prefix.") var typePrefix: String?
    @Option(help: "Start at this position (inclusive); for a named consumer, only when it has no checkpoint yet.")
    var from: UInt64?
    @Option(help: "A named consumer ([a-z0-9._-], 1-64) whose checkpoint is kept in the store.") var consumer: String?
    @Flag(help: "With --consumer: forget its checkpoint and filter and start it again (at --from, or with the next event) with this filter.")
    var reset = false

    func validate() throws {
        if reset && consumer == nil { throw ValidationError("--reset needs --consumer") }
    }

    func run() async throws {
        try await FollowExport.run(store: store, tenant: tenant, typePrefix: typePrefix, from: from, consumer: consumer, reset: reset)
    }
}
