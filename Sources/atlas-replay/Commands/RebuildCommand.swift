import ArgumentParser
import CanonicalJSON
import CommandSupport
import EventLog
import Foundation
import Inventory
import ReplayKit

struct RebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Drop and rebuild projections from the log.",
        discussion: """
            Rebuilds into a new generation of tables in large write transactions and swaps it in \
            atomically; appends go on meanwhile. An interrupted rebuild is discarded (and can simply be \
            run again); the store opens with the old generation. Prints each projection's digest \
            before and after: for a consistent store they are equal. Exit 1 when they differ at the \
            same head (the projection had diverged from the log; it is now rebuilt from it).
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var logging: LoggingOptions
    @Option(name: .customLong("projection"), help: "Rebuild only this projection (repeatable; default: all). Known: \(InventoryProjections.all.map(\.name).joined(separator: ", ")).")
    var projections: [String] = []
    @Flag(help: "Print the digests as JSON.") var json = false

    func validate() throws {
        let known = InventoryProjections.all.map(\.name)
        if let unknown = projections.first(where: { !known.contains($0) }) {
            throw ValidationError("unknown projection \"\(unknown)\"; known: \(known.joined(separator: ", "))")
        }
    }

    func run() async throws {
        let selected = projections.isEmpty ? InventoryProjections.all : InventoryProjections.all.filter { projections.contains($0.name) }
        let (before, after, elapsed, events) = try await replayCommand {
            let s = try store.open()
            let before = try ProjectionDigest.atHead(s, projections: selected)
            // One pass over the log for all of them: each event is read once.
            let label = "rebuilding \(selected.map(\.name).joined(separator: ", "))"
            let progress = TerminalProgress(label)
            let start = DispatchTime.now().uptimeNanoseconds
            try await s.rebuildProjections(named: selected.map(\.name), progress: { applied, head in progress.update(applied, head, label: label) })
            progress.finish()
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let after = try ProjectionDigest.atHead(s, projections: selected)
            let events = try after.head ?? s.head().position
            return (before, after, elapsed, events)
        }
        var differing: [String] = []
        let comparable = before.head != nil && before.head == after.head
        for (b, a) in zip(before.digests, after.digests) where comparable && b.hex != a.hex { differing.append(b.projection) }
        if json {
            Output.json(.object([
                "before": .object(["head": before.head.map { .number(Double($0)) } ?? .null,
                                   "digests": .object(Dictionary(uniqueKeysWithValues: before.digests.map { ($0.projection, JSONValue.string($0.hex)) }))]),
                "after": .object(["head": after.head.map { .number(Double($0)) } ?? .null,
                                  "digests": .object(Dictionary(uniqueKeysWithValues: after.digests.map { ($0.projection, JSONValue.string($0.hex)) }))]),
                "comparable": .bool(comparable), "equal": .bool(comparable && differing.isEmpty),
                "seconds": .number((elapsed * 1000).rounded() / 1000), "events": .number(Double(events)),
            ]))
        } else {
            for (b, a) in zip(before.digests, after.digests) {
                let verdict = !comparable ? "(log moved; not comparable)" : (b.hex == a.hex ? "equal" : "DIFFERENT")
                print("\(b.projection): before \(b.hex) after \(a.hex) \(verdict)")
            }
            print("rebuilt \(selected.count) projection(s) over \(events) events in \(String(format: "%.2f", elapsed)) s")
        }
        if !comparable {
            Output.note("note: the log moved during the rebuild (head \(before.head.map(String.init) ?? "?") → \(after.head.map(String.init) ?? "?")); digests are not comparable; run `atlas-replay verify` to check")
        }
        if !differing.isEmpty {
            throw CommandFailure("digests differ for \(differing.joined(separator: ", ")): the projection had diverged from the log; it is now rebuilt from it")
        }
    }
}
