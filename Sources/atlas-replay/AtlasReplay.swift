import ArgumentParser
import CommandSupport

/// `atlas-replay`: the auditor's tool. Reads the log in short, chunked read transactions, so it
/// is safe on a live store while `atlas sync` writes to it.
struct AtlasReplay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "atlas-replay",
        abstract: "Verify, rebuild, replay and export an Atlas event log.",
        discussion: "Exit codes: 0 success, 1 failure (verification failed), 2 usage error.",
        version: BuildInfo.versionText,
        subcommands: [VerifyCommand.self, VerifyChildCommand.self, KeygenCommand.self, CheckpointCommand.self, RebuildCommand.self, AsOfCommand.self, AuditCommand.self, ExportCommand.self,
                      StatsCommand.self, TailCommand.self, ConsumersCommand.self, CopyCommand.self]
    )
}

@main
enum AtlasReplayMain {
    static func main() async {
        await CommandMain.run(AtlasReplay.self)
    }
}
