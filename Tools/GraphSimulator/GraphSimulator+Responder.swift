import CanonicalJSON
import Foundation
import Hummingbird
import Synchronization

extension GraphSimulator {
    /// Answers one HTTP request: control endpoints, the token endpoint or Graph.
    func respond(to request: Request, context: SimulatorRequestContext) async -> Response {
        let arrived = Date()
        let incoming = await IncomingRequest(request)
        let isControl = incoming.path == "/_sim" || incoming.path.hasPrefix("/_sim/")
        var reply: SimulatorReply
        if isControl {
            reply = handleControl(incoming)
        } else if let tenant = tokenTenant(incoming.path) {
            reply = await handleToken(incoming, tenant: tenant)
        } else if GraphPath.splitVersion(incoming.path) != nil {
            reply = await handleGraph(incoming)
        } else {
            reply = .graphError(404, code: "ResourceNotFound", message: "Resource not found for the segment '\(incoming.path)'.")
        }
        if let id = incoming.clientRequestID { reply.headers.append(("client-request-id", id)) }
        reply.headers.append(("request-id", UUID().uuidString.lowercased()))
        if !isControl {
            let entry = RecordedRequest(
                sequence: 0, method: incoming.method, path: incoming.path, query: incoming.rawQuery,
                host: incoming.host, authorization: incoming.authorization, tenant: reply.tenant, page: reply.page,
                fault: reply.fault, status: reply.closeConnection ? 0 : reply.status, timestamp: arrived)
            state.withLock { $0.record(entry) }
        }
        if reply.closeConnection {
            await context.closeConnection()
        }
        return reply.response()
    }

    /// The tenant of a token-endpoint path `/{tenant}/oauth2/v2.0/token`.
    private func tokenTenant(_ path: String) -> String? {
        let suffix = "/oauth2/v2.0/token"
        guard path.hasSuffix(suffix) else { return nil }
        let tenant = path.dropFirst().dropLast(suffix.count)
        guard !tenant.isEmpty, !tenant.contains("/") else { return nil }
        return String(tenant).removingPercentEncoding ?? String(tenant)
    }
}
