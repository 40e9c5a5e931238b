/// A command failure with the exit code to leave with: 2 for usage errors (bad input, a path
/// that is not a store), 1 for failures while working.
package struct CommandFailure: Error, Sendable, CustomStringConvertible {
    package var message: String
    package var exitCode: Int32

    package init(_ message: String, exitCode: Int32 = 1) {
        self.message = message
        self.exitCode = exitCode
    }

    /// A usage error (exit code 2).
    package static func usage(_ message: String) -> CommandFailure { CommandFailure(message, exitCode: 2) }

    package var description: String { message }
}
