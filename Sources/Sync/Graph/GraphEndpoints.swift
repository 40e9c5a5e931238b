import Foundation

/// Where Graph and the Entra token endpoint live; tests point both at a simulator.
package struct GraphEndpoints: Sendable, Hashable {
    /// `https://graph.microsoft.com`.
    package static let defaultGraphBaseURL = "https://graph.microsoft.com"
    /// `https://login.microsoftonline.com`.
    package static let defaultLoginBaseURL = "https://login.microsoftonline.com"

    /// Graph's base URL without a trailing slash; collection paths such as
    /// `/beta/deviceManagement/intents` are appended to it.
    package let graphBaseURL: String
    /// The login base URL without a trailing slash; `/{tenant}/oauth2/v2.0/token` is appended.
    package let loginBaseURL: String
    /// The origin (scheme, host, port) every Graph request must go to.
    let graphOrigin: URLOrigin

    /// Endpoints from base URLs: `https` with a host, without user info, query or fragment.
    /// Plain `http` is accepted only for a loopback host (127.0.0.0/8, `::1`, `localhost`),
    /// where simulators run: the client secret and tokens never travel in clear text.
    package init(graphBaseURL: String = Self.defaultGraphBaseURL, loginBaseURL: String = Self.defaultLoginBaseURL)
        throws(GraphConfigurationError)
    {
        let graph = try Self.validate(graphBaseURL, name: "Graph base URL")
        self.loginBaseURL = try Self.validate(loginBaseURL, name: "login base URL").url
        self.graphBaseURL = graph.url
        self.graphOrigin = graph.origin
    }

    /// The production endpoints.
    package static let production: GraphEndpoints = try! GraphEndpoints()

    private static func validate(_ raw: String, name: String) throws(GraphConfigurationError) -> (url: String, origin: URLOrigin) {
        var text = raw.trimmingCharacters(in: .whitespaces)
        while text.hasSuffix("/") { text.removeLast() }
        guard let url = URL(string: text), let origin = URLOrigin(url) else {
            throw GraphConfigurationError("the \(name) \"\(raw.prefix(200))\" is not an http(s) URL with a host")
        }
        guard url.user == nil, url.password == nil, url.query == nil, url.fragment == nil else {
            throw GraphConfigurationError("the \(name) must not carry user info, a query or a fragment")
        }
        guard origin.scheme == "https" || origin.isLoopback else {
            throw GraphConfigurationError("the \(name) \"\(raw.prefix(200))\" is not https: credentials and tokens would travel "
                + "in clear text (plain http is allowed only for loopback: 127.0.0.0/8, ::1, localhost)")
        }
        return (text, origin)
    }
}
