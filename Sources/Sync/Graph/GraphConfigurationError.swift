/// Invalid Graph settings: credentials that cannot be loaded or endpoints that cannot be used.
///
/// Its message never contains the client secret.
public struct GraphConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, for the user.
    public var message: String

    /// An error with `message`.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}
