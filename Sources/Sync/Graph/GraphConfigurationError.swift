/// Invalid Graph settings: credentials that cannot be loaded or endpoints that cannot be used.
///
/// Its message never contains the client secret.
package struct GraphConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, for the user.
    package var message: String

    /// An error with `message`.
    package init(_ message: String) { self.message = message }

    /// The message.
    package var description: String { message }
}
