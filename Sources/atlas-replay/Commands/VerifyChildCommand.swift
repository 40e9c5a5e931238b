import ArgumentParser
import CommandSupport
import EventLog
import Foundation
import ReplayKit

/// `atlas-replay verify-child` (hidden): the process `verify` runs the checks in, so that a
/// damaged page that crashes or hangs LMDB cannot take the report down. It reports its progress
/// to the parent on stdout (``VerificationChild/Message``), then the report itself, and exits
/// (removing its scratch store) when the parent goes away.
struct VerifyChildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-child", abstract: "Run verify's checks for a supervising `verify` (internal).",
        shouldDisplay: false)

    @OptionGroup var options: VerifyOptions
    @Option(name: .customLong("scratch-path"), help: "The exact path of the scratch store, chosen by the parent.")
    var scratchPath: String

    func run() async throws {
        VerificationChild.exitWhenParentGoes(removing: scratchPath)
        let checkpoints = try options.loadCheckpoints()
        let pinned = try options.pinnedKey()
        var checks: [VerifyCommand.CheckpointLine] = []
        let report = try await replayCommand {
            let s: LMDBEventStore
            do { s = try ReplayStore.openReadOnly(options.store.path) } catch let e as ReplayUsageError
                where e.cause == .notAStore && FileManager.default.fileExists(atPath: options.store.path + "/data.mdb") {
                // The data file is there but its pages do not hold a readable store: damage.
                throw ReplayFailure("the store cannot be read: \(e.message); its data file is damaged")
            }
            let report: VerifyReport
            (report, checks) = try await Self.verify(s, options: options, checkpoints: checkpoints, pinned: pinned, scratchPath: scratchPath,
                                                     progress: { VerificationChild.send(.progress($0, $1)) },
                                                     step: { VerificationChild.send(.step($0)) })
            return report
        }
        VerificationChild.send(.output)
        try VerifyCommand.finish(report, json: options.json, checkpoints: checks)
    }

    /// Runs verify's checks on `store`: the log, its indexes and projections against a scratch
    /// rebuild, then each checkpoint.
    static func verify(
        _ store: any EventStore, options: VerifyOptions, checkpoints: [(name: String, checkpoint: Checkpoint)], pinned: [UInt8]?, scratchPath: String?,
        progress: @escaping @Sendable (UInt64, UInt64) -> Void, step: @escaping @Sendable (String) -> Void
    ) async throws -> (VerifyReport, [VerifyCommand.CheckpointLine]) {
        let verifier = Verifier(store: store, scratchParent: options.scratchDir)
        if let scratchPath { verifier.scratchDirectory = scratchPath }
        verifier.compareProjections = !options.logOnly
        verifier.attempts = options.attempts
        verifier.progress = progress
        verifier.step = step
        let report = try await verifier.run()
        if !checkpoints.isEmpty { step("checking \(checkpoints.count) checkpoint(s)") }
        let checks = checkpoints.map { name, c in
            let result = c.check(in: store, pinnedKey: pinned)
            return VerifyCommand.CheckpointLine(name: name, position: c.position, ok: result.isOK, pinned: pinned != nil,
                                                message: result.describe(c, pinned: pinned != nil))
        }
        return (report, checks)
    }
}
