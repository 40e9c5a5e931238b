import ArgumentParser
import CommandSupport
import Foundation
import ReplayKit

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Audit the log's inventory events.", subcommands: [Selections.self])

    struct Selections: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every run's selection hash, list selections with their runs, and recompute missing/unknown from the events.",
            discussion: """
                Flags: a run whose stored selection_hash differs from today's hash of its stored \
                selection; a stored selection today's parser rejects; observations outside the run's \
                selection's resolved types; observations of unknown runs; a selection whose missing/unknown, \
                recomputed purely from its own events, differs from `atlas missing`. Exit 1 if anything is flagged.
                """)

        @OptionGroup var store: StoreOptions
        @OptionGroup var logging: LoggingOptions
        @Option(help: "Only this tenant.") var tenant: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let audit = try await replayCommand {
                let s = try store.open(readOnly: true)
                if let tenant { try AsOf.validate(tenant: tenant, in: s) }
                return try SelectionAudit.run(s, tenant: tenant)
            }
            if json { Output.json(audit.json) } else { Self.render(audit) }
            if !audit.flags.isEmpty {
                throw CommandFailure("\(audit.flags.count) finding(s); first: \(audit.flags[0].message)")
            }
        }

        static func render(_ a: SelectionAudit) {
            var tenant = ""
            for s in a.selections {
                if s.tenant != tenant {
                    tenant = s.tenant
                    print("tenant \(tenant)")
                }
                let agrees = s.agrees.map { $0 ? "agrees with the projection" : "DIFFERS from the projection" } ?? "not compared"
                print("  selection \(s.hash): \(s.runs.count) run(s), latest completed \(s.latestCompletedRun ?? "-"), missing \(s.missing.count), unknown \(s.unknown.count) — \(agrees)")
                for r in s.runs {
                    let hash = r.recomputedHash.map { $0 == r.storedHash ? "hash ok" : "HASH MISMATCH (today \($0))" } ?? "no stored selection"
                    print("    run \(r.runID) \(r.status.rawValue) started@\(r.startedPosition.map(String.init) ?? "-") finished@\(r.finishedPosition.map(String.init) ?? "-") observations=\(r.observations) \(hash)")
                }
            }
            for f in a.flags { print("FLAG [\(f.kind)] \(f.tenant): \(f.message)") }
            for n in a.notes { print("note: \(n)") }
            print(a.flags.isEmpty ? "status: ok (through position \(a.head))" : "status: \(a.flags.count) finding(s) (through position \(a.head))")
        }
    }
}
