import ArgumentParser
import CommandSupport
import Foundation
import CanonicalJSON
import ReplayKit

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify the log and the projections from the file.",
        discussion: """
            Recomputes the hash chain from position 1, checks positions are gapless, decodes every \
            envelope and checks it is in canonical form, checks the tenant index, and compares each \
            projection (by digest, at the same log head) with one rebuilt from scratch in a temporary \
            store. Exit 0 when all hold, 1 otherwise (the first bad position or projection key is named). \
            The checks run in a child process: a damaged page that crashes or hangs LMDB is reported \
            as "page structure damaged" (exit 1), and the temporary store is removed on every exit. \
            With --checkpoint, each signed checkpoint must also be well signed (by --public-key when \
            given), name this store, and match the chain hash stored at its position: a rewritten or \
            truncated log fails (exit 1) even when it is internally consistent.
            """)

    @OptionGroup var options: VerifyOptions
    @OptionGroup var logging: LoggingOptions
    @Option(name: .customLong("step-timeout"), help: "Seconds a verification step may go without progress before the store is reported damaged (1…86400).")
    var stepTimeout = 300

    func validate() throws {
        guard stepTimeout >= 1 && stepTimeout <= 86_400 else { throw ValidationError("--step-timeout must be 1…86400 seconds") }
    }

    func run() async throws {
        guard case .lmdb = options.store.location else { return try await runInProcess() }
        // The path is checked here; the store is opened only in the child (a damaged page can
        // crash whoever opens it).
        try await replayCommand { try ReplayStore.checkPath(options.store.path) }
        // Checkpoint files and the key are bad input (exit 2) before anything runs.
        _ = try options.loadCheckpoints()
        _ = try options.pinnedKey()
        let parent = options.scratchDir ?? FileManager.default.temporaryDirectory.path
        ScratchStore.removeStale(in: parent)
        let scratch = ScratchStore.newDirectory(label: "verify", parent: parent)
        let child = VerificationChild(arguments: ["verify-child", "--scratch-path", scratch] + options.arguments,
                                      scratch: scratch, stepTimeout: TimeInterval(stepTimeout))
        let progress = TerminalProgress("verifying")
        let outcome = try child.run { progress.update($0, $1) }
        progress.finish()
        let reached = "checked through position \(child.reached.0) of \(child.reached.1)" + (child.lastStep.map { ", then \($0)" } ?? "")
        switch outcome {
        case let .exited(status, output?):
            FileHandle.standardOutput.write(output)
            if status != 0 { throw ExitCode(status) }
        case let .exited(status, nil):
            // Failed before reporting (its error is on stderr): a usage error stays one.
            if status == 0 { throw damaged("the verifying process ended without a report") }
            throw ExitCode(status)
        case let .killed(signal):
            throw damaged("the verifying process died by \(VerificationChild.name(of: signal)) (\(reached))")
        case .timedOut:
            throw damaged("a verification step made no progress for \(stepTimeout) s (\(reached)); it was stopped")
        }
    }

    /// Verifies a store on a server in this process: a damaged LMDB page is what the
    /// verification process guards against, and such a store has none.
    private func runInProcess() async throws {
        let checkpoints = try options.loadCheckpoints()
        let pinned = try options.pinnedKey()
        let store = try options.store.open(readOnly: true)
        let progress = TerminalProgress("verifying")
        let (report, checks) = try await replayCommand {
            try await VerifyChildCommand.verify(store, options: options, checkpoints: checkpoints, pinned: pinned, scratchPath: nil,
                                                progress: { progress.update($0, $1) }, step: { _ in })
        }
        progress.finish()
        try Self.finish(report, json: options.json, checkpoints: checks)
    }

    /// The report when the checks could not finish: LMDB 0.9 has no page checksums, so a damaged
    /// page crashes or hangs the reader.
    private func damaged(_ what: String) -> CommandFailure {
        let message = "page structure damaged: \(what); the store's LMDB pages are corrupt"
        if options.json {
            Output.json(.object(["status": .string("failed"), "problem_count": .number(1),
                                 "problems": .array([.object(["kind": .string("pages"), "message": .string(message)])])]))
        } else {
            print("problem [pages]: \(message)\nstatus: failed")
        }
        return CommandFailure("verification failed: \(message)")
    }

    /// One checked checkpoint, as the report prints it.
    struct CheckpointLine {
        var name: String
        var position: UInt64
        var ok: Bool
        var pinned: Bool
        var message: String

        var text: String { "checkpoint \(name): \(message)" }
        var json: JSONValue {
            .object(["file": .string(name), "position": .number(Double(position)), "status": .string(ok ? "ok" : "failed"),
                     "pinned": .bool(pinned), "message": .string(message)])
        }
    }

    /// Prints `report` (and the checked checkpoints) and leaves with its exit code: a failed
    /// checkpoint fails the verification.
    static func finish(_ report: VerifyReport, json: Bool, checkpoints: [CheckpointLine] = []) throws {
        let failedCheckpoint = checkpoints.first { !$0.ok }
        if json {
            var o = report.json.objectValue ?? [:]
            if !checkpoints.isEmpty { o["checkpoints"] = .array(checkpoints.map(\.json)) }
            if failedCheckpoint != nil { o["status"] = .string("failed") }
            Output.json(.object(o))
        } else {
            var lines = Self.render(report).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let status = lines.popLast() ?? ""
            lines += checkpoints.map(\.text)
            lines.append(failedCheckpoint == nil ? status : "status: failed")
            print(lines.joined(separator: "\n"))
        }
        if let failedCheckpoint, report.status != .failed {
            throw CommandFailure("verification failed: \(failedCheckpoint.text)")
        }
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
        let logProblems = r.problems.filter(\.kind.isLogProblem)
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
