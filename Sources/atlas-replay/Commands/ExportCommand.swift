import ArgumentParser
import CommandSupport
import Foundation
import ReplayKit

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write events as NDJSON: {\"position\":N,\"chain\":\"hex\",\"envelope\":{…}} per line.",
        discussion: "The envelope is written exactly as stored (canonical JSON). Without --follow, the export ends at --to or at the head when it starts. With --follow, it starts at --from (default 1; with --consumer, after the consumer's checkpoint when it has one) and keeps printing new events; `tail` starts with the next event instead.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var logging: LoggingOptions
    @Option(help: "Only this tenant's events.") var tenant: String?
    @Option(name: .customLong("type"), help: "Only events whose type starts with this prefix (e.g. inventory.).") var typePrefix: String?
    @Option(help: "First position (default 1).") var from: UInt64?
    @Option(help: "Last position, inclusive (default: the head).") var to: UInt64?
    @Flag(help: "Keep following the log and print new events as they are appended.") var follow = false
    @Option(help: "With --follow: resume from and acknowledge to this named durable consumer.") var consumer: String?
    @Flag(help: "With --consumer: forget its checkpoint and filter and start it again (at --from, default 1) with this filter.")
    var reset = false

    func validate() throws {
        if let from, from == 0 { throw ValidationError("--from must be at least 1") }
        if let to, to == 0 { throw ValidationError("--to must be at least 1") }
        if let from, let to, to < from { throw ValidationError("--to (\(to)) is before --from (\(from))") }
        if consumer != nil && !follow { throw ValidationError("--consumer needs --follow") }
        if reset && consumer == nil { throw ValidationError("--reset needs --consumer") }
        if to != nil && follow { throw ValidationError("--to and --follow exclude each other") }
        if let tenant, tenant.isEmpty { throw ValidationError("--tenant must not be empty") }
    }

    func run() async throws {
        if follow {
            // From position 1 unless told otherwise (`tail` is the command that starts at the next event).
            try await FollowExport.run(store: store, tenant: tenant, typePrefix: typePrefix, from: from ?? 1, consumer: consumer,
                                       reset: reset)
            return
        }
        try await replayCommand {
            let s = try store.open(readOnly: true)
            let head = try s.head().position
            if let from, from > head { throw ReplayUsageError("--from \(from) is beyond the head of the log (\(head))") }
            if let to, to > head { throw ReplayUsageError("--to \(to) is beyond the head of the log (\(head))") }
            if let tenant { try AsOf.validate(tenant: tenant, in: s) }
            let out = BufferedWriter(fd: 1)
            try Exporter.run(s, filter: .init(tenant: tenant, typePrefix: typePrefix, from: from ?? 1, to: to), to: out)
            if out.failed && errno != EPIPE { throw ReplayFailure("cannot write to stdout") }
        }
    }
}
