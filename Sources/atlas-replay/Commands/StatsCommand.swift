import ArgumentParser
import CommandSupport
import Foundation
import ReplayKit

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Events per type and tenant, head, store size and projection bookkeeping.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var logging: LoggingOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let stats = try await replayCommand {
            try StoreStats.collect(try store.open(readOnly: true))
        }
        if json { Output.json(stats.json); return }
        print("head: position \(stats.head.position), chain \(stats.head.chainHash.hex)")
        print("events: \(stats.events)")
        if let sizes = stats.sizes {
            print("size: \(sizes.usedBytes) bytes used, \(sizes.fileBytes) bytes on disk (map \(sizes.mapBytes))")
        }
        if let id = stats.metadata["store_id"] { print("store: \(id), created \(stats.metadata["created_at"] ?? "-"), format \(stats.metadata["format_version"] ?? "-")") }
        print("")
        Output.table(["TYPE", "EVENTS"], stats.perType.sorted { $0.key < $1.key }.map { [$0.key, String($0.value)] })
        print("")
        Output.table(["TENANT", "EVENTS"], stats.perTenant.sorted { $0.key < $1.key }.map { [$0.key, String($0.value)] })
        print("")
        Output.table(["PROJECTION", "VERSION", "GENERATION", "CHECKPOINT", "ENTRIES"], stats.projections.map {
            [$0.name, String($0.version), String($0.generation), String($0.checkpoint),
             $0.entries.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")]
        })
    }
}
