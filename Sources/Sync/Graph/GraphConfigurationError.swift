/// Invalid Graph settings: credentials that cannot be loaded or endpoints that cannot be used.
///
/// Its message never contains the client secret.
public struct GraphConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, for the user.
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
