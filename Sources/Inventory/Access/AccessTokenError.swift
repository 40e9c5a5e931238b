/// Why a token cannot be created or revoked.
package struct AccessTokenError: Error, Sendable, Hashable, CustomStringConvertible {
    package enum Code: String, Sendable, Hashable {
        /// A token of this name is active.
        case nameTaken = "name_taken"
        /// No token has this name.
        case unknownName = "unknown_name"
        /// The token of this name is already revoked.
        case alreadyRevoked = "already_revoked"
    }

    package var code: Code
    package var message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}
