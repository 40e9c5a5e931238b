import CanonicalJSON
import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import Inventory
import Logging

extension AtlasServer {
    /// Answers one request and logs it: method, path (never the query, which may carry a
    /// selection but must never carry a token), status, duration and the token's *name*.
    func respond(to request: Request) async -> Response {
        let started = ContinuousClock.now
        let incoming = await IncomingRequest(request)
        var tokenName: String?
        let response: Response
        do {
            response = try await withTaskExecutorPreference(readExecutor) {
                try await route(incoming, tokenName: &tokenName)
            }
        } catch let p as APIProblem {
            response = Reply.problem(p)
        } catch {
            logger.error("\(incoming.method.rawValue) \(incoming.path): \(error)")
            response = Reply.problem(APIProblem(.storeError, "\(error)"))
        }
        let elapsed = ContinuousClock.now - started
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        logger.notice("\(incoming.method.rawValue) \(incoming.path) \(response.status.code) \(String(format: "%.1f", ms))ms token=\(tokenName ?? "-")")
        return response
    }

    private func route(_ r: IncomingRequest, tokenName: inout String?) async throws -> Response {
        let s = r.segments
        if s.isEmpty { return Reply.redirect("/console") }
        if s.first == "console" {
            return try await console(r, tokenName: &tokenName)
        }
        guard s.count >= 2, s[0] == "api", s[1] == "v1" else { throw APIProblem(.notFound, "no route for \(r.path.prefix(200))") }
        guard let (route, parameters) = APIRoute.match(s) else { throw APIProblem(.notFound, "no API route for \(r.path.prefix(200))") }
        guard r.method == .get || r.method == .head else {
            throw APIProblem(.methodNotAllowed, "\(route.template) answers GET only")
        }
        if route.isPublic { return Reply.json(.object(["status": .string("ok")])) }
        guard let grant = try authenticate(r) else {
            throw APIProblem(.unauthorized, "send `Authorization: Bearer <token>` with a token from `atlas token create`")
        }
        tokenName = grant.tokenName
        return try await api(route, parameters: parameters, request: r, grant: grant)
    }

    /// The grant of the request's bearer token, or of its console session cookie.
    func authenticate(_ r: IncomingRequest) throws -> AccessGrant? {
        if let token = r.bearerToken { return try verifier.grant(for: token) }
        if let id = r.cookies[ConsoleCookie.session], let session = sessions.session(id) {
            return try grant(of: session)
        }
        return nil
    }

    /// The grant of a console session: its token must still be the active token of its name.
    func grant(of session: SessionStore.Session) throws -> AccessGrant? {
        guard let token = try queries.accessToken(named: session.tokenName), token.sha256 == session.tokenSHA256,
              token.state(at: .now()) == .active else { return nil }
        return AccessGrant(tokenName: token.name, tenants: token.tenants.isEmpty ? nil : Set(token.tenants))
    }

    /// The canonical tenant of a path or query value, if the grant may see it and the store
    /// has it; otherwise the same 404 either way.
    func visibleTenant(_ text: String, grant: AccessGrant) throws -> String {
        guard let tenant = try? TenantID(text).value, grant.allows(tenant), try queries.hasTenant(tenant) else {
            throw APIProblem.tenantNotFound(text)
        }
        return tenant
    }
}
