/// A command failure with the exit code to leave with: 2 for usage errors (bad input, a path
/// that is not a store), 1 for failures while working.
public struct CommandFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var exitCode: Int32

    public init(_ message: String, exitCode: Int32 = 1) {
        self.message = message
        self.exitCode = exitCode
    }

    /// A usage error (exit code 2).
    public static func usage(_ message: String) -> CommandFailure { CommandFailure(message, exitCode: 2) }

    public var description: String { message }
}
