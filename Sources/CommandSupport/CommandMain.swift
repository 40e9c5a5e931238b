package import ArgumentParser
import EventLog
import Foundation

/// Runs a root command with Atlas's exit codes: 0 success, 1 failure, 2 usage error
/// (argument-parser's validation errors included). Messages go to stderr. Bootstraps logging
/// to stderr at the command's `--log-level` (``LoggingOptions``) before the command runs.
package enum CommandMain {
    package static func run<Root: ParsableCommand>(_ root: Root.Type) async -> Never {
        do {
            var command = try root.parseAsRoot()
            LoggingOptions.bootstrap(LoggingOptions.level(of: command))
            if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
            exit(0)
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data("error: \(failure.message)\n".utf8))
            exit(failure.exitCode)
        } catch let error as EventLogError {
            let usage: Set<EventLogError.Code> = [.notAStore, .newerFormat, .positionOutOfRange, .truncatedLog, .unsupportedSharing]
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            exit(usage.contains(error.code) ? 2 : 1)
        } catch {
            let code = root.exitCode(for: error)
            if code == .success {
                root.exit(withError: error)  // --help, --version
            }
            if code == .validationFailure {
                FileHandle.standardError.write(Data((root.fullMessage(for: error) + "\n").utf8))
                exit(2)
            }
            if error is ExitCode { root.exit(withError: error) }
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(1)
        }
    }
}
