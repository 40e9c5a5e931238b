import CanonicalJSON
import Foundation
import Synchronization

extension GraphSimulator {
    /// The path under which token-endpoint faults are armed.
    package static let tokenFaultPath = "/oauth2/v2.0/token"

    /// `POST /{tenant}/oauth2/v2.0/token` with a client-credentials form.
    func handleToken(_ request: IncomingRequest, tenant tenantID: String) async -> SimulatorReply {
        guard request.method == "POST" else {
            return .aadError(405, error: "invalid_request",
                             description: "AADSTS900561: The endpoint only accepts POST requests. Received a \(request.method) request.")
        }
        let known = state.withLock { $0.tenants[tenantID] }
        guard let tenant = known else {
            return .aadError(400, error: "invalid_request", description:
                "AADSTS90002: Tenant '\(tenantID)' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")
        }
        if let kind = state.withLock({ $0.takeFault(tenant: tenant.id, path: Self.tokenFaultPath, page: nil) }),
           var faulted = await faultReply(kind, contextURL: nil)
        {
            faulted.tenant = tenant.id
            faulted.fault = kind.name
            return faulted
        }
        var reply = tokenReply(request, tenant: tenant)
        reply.tenant = tenant.id
        return reply
    }

    private func tokenReply(_ request: IncomingRequest, tenant: SimulatedTenant) -> SimulatorReply {
        let form = IncomingRequest.parseForm(String(decoding: request.body, as: UTF8.self))
        guard form["grant_type"] == "client_credentials" else {
            return .aadError(400, error: "unsupported_grant_type", description:
                "AADSTS70003: The app requested an unsupported grant type '\(form["grant_type"] ?? "")'.")
        }
        guard let scope = form["scope"], scope.split(separator: " ").contains("https://graph.microsoft.com/.default") else {
            return .aadError(400, error: "invalid_scope", description:
                "AADSTS1002012: The provided value for scope \(form["scope"] ?? "") is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
        }
        guard form["client_id"] == tenant.clientID else {
            return .aadError(401, error: "invalid_client", description:
                "AADSTS700016: Application with identifier '\(form["client_id"] ?? "")' was not found in the directory '\(tenant.id)'.")
        }
        guard form["client_secret"] == tenant.clientSecret else {
            return .aadError(401, error: "invalid_client", description:
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '\(tenant.clientID)'.")
        }
        let (token, lifetime) = state.withLock { s in (s.issueToken(tenant: tenant.id, now: Date()), s.tokenLifetime) }
        let seconds = JSONValue.number(Double(max(0, Int(lifetime))))
        return .json(200, [
            "token_type": "Bearer",
            "expires_in": seconds,
            "ext_expires_in": seconds,
            "access_token": .string(token),
        ], contentType: "application/json; charset=utf-8")
    }
}
