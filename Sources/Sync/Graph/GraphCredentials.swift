import CanonicalJSON
import EventLog
import Foundation

/// An Entra app registration's client credentials, used for the OAuth2 client-credentials flow.
///
/// Load them from the environment (``fromEnvironment(_:)``) or a JSON file (``load(file:)``);
/// never take the secret from a command-line argument, where it would show in process lists
/// and shell history. The secret never appears in ``description``.
package struct GraphCredentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Environment variable holding the client (application) id.
    package static let clientIDVariable = "ATLAS_CLIENT_ID"
    /// Environment variable holding the client secret.
    package static let clientSecretVariable = "ATLAS_CLIENT_SECRET"

    /// The application (client) id.
    package let clientID: String
    /// The client secret.
    package let clientSecret: String

    /// Credentials from explicit values; both must be non-empty.
    package init(clientID: String, clientSecret: String) throws(GraphConfigurationError) {
        let id = clientID.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !id.isEmpty else { throw GraphConfigurationError("the client id is empty") }
        guard !clientSecret.isEmpty else { throw GraphConfigurationError("the client secret is empty") }
        guard !clientSecret.contains(where: { $0 == "\n" || $0 == "\r" }) else {
            throw GraphConfigurationError("the client secret contains a line break")
        }
        self.clientID = id
        self.clientSecret = clientSecret
    }

    /// Credentials from `ATLAS_CLIENT_ID` and `ATLAS_CLIENT_SECRET`.
    package static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(GraphConfigurationError) -> GraphCredentials
    {
        let id = environment[clientIDVariable] ?? ""
        let secret = environment[clientSecretVariable] ?? ""
        var absent: [String] = []
        if id.isEmpty { absent.append(clientIDVariable) }
        if secret.isEmpty { absent.append(clientSecretVariable) }
        guard absent.isEmpty else {
            throw GraphConfigurationError("credentials not found: set \(absent.joined(separator: " and ")) or use a credentials file")
        }
        return try GraphCredentials(clientID: id, clientSecret: secret)
    }

    /// Credentials from a JSON file `{"client_id": "…", "client_secret": "…"}`
    /// (`clientId` / `clientSecret` are accepted too). Errors name the file, never its content.
    /// A file that group or others may access (mode `& 0o077`) is refused, as is one larger
    /// than 1 MiB (checked before it is read).
    package static func load(file path: String) throws(GraphConfigurationError) -> GraphCredentials {
        let data = try readPrivateFile(path)
        let json: JSONValue
        do {
            json = try JSONParser().parse(Array(data))
        } catch {
            // The parse error could quote the secret's bytes: report only the position.
            throw GraphConfigurationError("credentials file \(path) is not valid JSON (at byte \(error.offset))")
        }
        guard json.objectValue != nil else {
            throw GraphConfigurationError("credentials file \(path) must hold a JSON object with client_id and client_secret")
        }
        guard let id = (json["client_id"] ?? json["clientId"])?.stringValue else {
            throw GraphConfigurationError("credentials file \(path) lacks a string client_id")
        }
        guard let secret = (json["client_secret"] ?? json["clientSecret"])?.stringValue else {
            throw GraphConfigurationError("credentials file \(path) lacks a string client_secret")
        }
        do {
            return try GraphCredentials(clientID: id, clientSecret: secret)
        } catch {
            throw GraphConfigurationError("credentials file \(path): \(error.message)")
        }
    }

    /// The bytes of the credentials file at `path`: a regular file only its owner may access,
    /// at most 1 MiB, checked on the opened file (no race with a swap of the path).
    static func readPrivateFile(_ path: String) throws(GraphConfigurationError) -> Data {
        do {
            return Data(try BoundedFile.read(path, role: "credentials file", limit: 1 << 20, ownerOnly: true))
        } catch {
            throw GraphConfigurationError(error.message)
        }
    }

    /// The client id with the secret hidden.
    package var description: String { "GraphCredentials(client_id: \(clientID), client_secret: \(Self.hidden))" }
    /// Same as ``description``: the secret never shows.
    package var debugDescription: String { description }

    static let hidden = "[REDACTED]"
}
