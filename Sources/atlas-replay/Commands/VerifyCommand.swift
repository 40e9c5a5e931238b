import ArgumentParser
import CommandSupport
import Foundation
import ReplayKit

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify the log and the projections from the file.",
        discussion: """
            Recomputes the hash chain from position 1, checks positions are gapless, decodes every \
            envelope and checks it is in canonical form, checks the tenant index, and compares each \
            projection (by digest, at the same log head) with one rebuilt from scratch in a temporary \
            store. Exit 0 when all hold, 1 otherwise (the first bad position or projection key is named).
            """)

    @OptionGroup var store: StoreOptions
    @Flag(help: "Print the report as JSON.") var json = false
    @Flag(name: .customLong("log-only"), help: "Check the log only; do not rebuild and compare the projections.")
    var logOnly = false
    @Option(name: .customLong("scratch-dir"), help: "Where to create the temporary rebuild store (default: the system temporary directory).")
    var scratchDir: String?
    @Option(help: "How many times to retry the projection comparison at a newer head while a writer appends.")
    var attempts = 5

    func validate() throws {
        guard attempts >= 1 && attempts <= 100 else { throw ValidationError("--attempts must be 1…100") }
    }

    func run() async throws {
        let report = try await replayCommand {
            let s = try ReplayStore.openReadOnly(store.path)
            let verifier = Verifier(store: s, scratchParent: scratchDir)
            verifier.compareProjections = !logOnly
            verifier.attempts = attempts
            let progress = TerminalProgress("verifying")
            verifier.progress = { progress.update($0, $1) }
            defer { progress.finish() }
            return try await verifier.run()
        }
        if json { Output.json(report.json) } else { print(Self.render(report)) }
        switch report.status {
        case .ok: return
        case .failed:
            let p = report.firstProblem!
            throw CommandFailure("verification failed (\(report.problemCount) problem(s)); first: \(p.message)")
        case .inconclusive:
            throw CommandFailure("verification inconclusive: \(report.notes.last ?? "projections not compared")")
        }
    }

    static func render(_ r: VerifyReport) -> String {
        var lines: [String] = []
        lines.append("log: \(r.eventsChecked) events checked through position \(r.head.position) (chain \(r.head.chainHash.hex))")
        let logKinds: Set<String> = ["gap", "order", "key", "length", "chain", "decode", "canonical", "replay", "tenant_index", "event_ids", "truncation"]
        let logProblems = r.problems.filter { logKinds.contains($0.kind) }
        lines.append(logProblems.isEmpty ? "chain, positions, envelopes, canonical form, tenant and id indexes: ok"
                                         : "log: \(logProblems.count) problem(s)")
        for p in r.projections {
            lines.append("projection \(p.name): \(p.equal ? "ok" : "DIFFERS") at position \(p.at) (live \(p.live.prefix(16))…, rebuilt \(p.rebuilt.prefix(16))…, \(p.entries.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")))")
        }
        for p in r.problems { lines.append("problem [\(p.kind)]: \(p.message)") }
        if r.problemCount > r.problems.count { lines.append("… and \(r.problemCount - r.problems.count) more") }
        for n in r.notes { lines.append("note: \(n)") }
        lines.append("status: \(r.status.rawValue)")
        return lines.joined(separator: "\n")
    }
}
