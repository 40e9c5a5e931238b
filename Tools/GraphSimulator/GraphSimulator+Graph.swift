import CanonicalJSON
import Foundation
import Synchronization

extension GraphSimulator {
    /// `GET /{version}/{path}`: authenticates, then serves a collection page, an item or an
    /// item's assignments.
    func handleGraph(_ request: IncomingRequest) async -> SimulatorReply {
        // Authenticate.
        let auth = authenticate(request.authorization)
        guard case .success(let tenantID) = auth else {
            if case .failure(let message) = auth {
                var r = SimulatorReply.graphError(401, code: "InvalidAuthenticationToken", message: message)
                r.headers.append(("WWW-Authenticate", "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\""))
                return r
            }
            return .graphError(401, code: "InvalidAuthenticationToken", message: "Access token is empty.")
        }
        var reply = await serveGraph(request, tenant: tenantID)
        reply.tenant = tenantID
        return reply
    }

    private enum AuthResult {
        case success(String)
        case failure(String)
    }

    private func authenticate(_ header: String?) -> AuthResult {
        guard let header, !header.isEmpty else { return .failure("Access token is empty.") }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            return .failure("Access token is empty.")
        }
        let token = String(parts[1]).trimmingCharacters(in: .whitespaces)
        let issued = state.withLock { $0.tokens[token] }
        guard let issued else {
            return .failure("IDX14100: JWT is not well formed, there are no dots (.). The token needs to be in JWS or JWE Compact Serialization Format.")
        }
        guard issued.expires > Date() else {
            return .failure("Lifetime validation failed, the token is expired.")
        }
        return .success(issued.tenant)
    }

    /// Whether `path` (with version) is a collection the simulator serves.
    private func isKnownCollection(_ path: String) -> Bool {
        guard let (_, rest) = GraphPath.splitVersion(path) else { return false }
        if configuration.knownCollections.contains(where: { $0.path == rest }) { return true }
        return state.withLock { s in s.tenants.values.contains { $0.collections[path] != nil } }
    }

    private func pageSize(for path: String) -> Int {
        if let s = configuration.pageSizes[path] { return s }
        if let s = configuration.pageSizeOverride { return s }
        if let (_, rest) = GraphPath.splitVersion(path),
           let c = configuration.knownCollections.first(where: { $0.path == rest })
        {
            return c.defaultPageSize
        }
        return configuration.fallbackPageSize
    }

    private func serveGraph(_ request: IncomingRequest, tenant: String) async -> SimulatorReply {
        guard request.method == "GET" else {
            return .graphError(405, code: "BadRequest", message: "The simulator only serves GET requests on Graph paths.")
        }
        let base = baseURL ?? "http://\(configuration.host)"
        let path = request.path
        if isKnownCollection(path) {
            return await servePage(request, tenant: tenant, path: path, base: base)
        }
        // `{collection}/{id}` or `{collection}/{id}/assignments`.
        var segments = path.split(separator: "/").map(String.init)
        var wantsAssignments = false
        if segments.last == "assignments", segments.count >= 4 {
            wantsAssignments = true
            segments.removeLast()
        }
        if segments.count >= 3 {
            let id = segments.removeLast()
            let collection = "/" + segments.joined(separator: "/")
            if isKnownCollection(collection) {
                let item = state.withLock { s in
                    s.tenants[tenant]?.collections[collection]?.first { $0["id"]?.stringValue == id }
                }
                guard let item else {
                    return .graphError(404, code: "ResourceNotFound", message: "Resource not found: \(id)")
                }
                let (version, rest) = GraphPath.splitVersion(collection)!
                if wantsAssignments {
                    return .json(200, [
                        "@odata.context": .string("\(base)/\(version)/$metadata#\(rest.dropFirst())('\(id)')/assignments"),
                        "value": item["assignments"] ?? .array([]),
                    ])
                }
                guard case .object(var members) = item else { return .json(200, item) }
                members["@odata.context"] = .string("\(base)/\(version)/$metadata#\(rest.dropFirst())/$entity")
                return .json(200, .object(members))
            }
        }
        return .graphError(404, code: "ResourceNotFound", message: "Resource not found for the segment '\(path.split(separator: "/").last ?? "")'.")
    }

    private func servePage(_ request: IncomingRequest, tenant: String, path: String, base: String) async -> SimulatorReply {
        // Where in the collection this request is.
        var position: SkipToken
        if let raw = request.query["$skiptoken"] {
            guard let token = SkipToken(encoded: raw), token.tenant == tenant, token.path == path else {
                return .graphError(400, code: "BadRequest", message: "The $skiptoken is invalid or belongs to another request.")
            }
            position = token
        } else {
            var size = pageSize(for: path)
            if let top = request.query["$top"] {
                guard let n = Int(top), n >= 1 else {
                    return .graphError(400, code: "BadRequest", message: "Invalid value '\(top)' for $top.")
                }
                size = min(n, configuration.maxTop)
            }
            position = SkipToken(tenant: tenant, path: path, offset: 0, pageSize: size, page: 1)
        }
        let (version, rest) = GraphPath.splitVersion(path)!
        let contextURL = "\(base)/\(version)/$metadata#\(rest.dropFirst())"

        // Faults.
        let kind = state.withLock { $0.takeFault(tenant: tenant, path: path, page: position.page) }
        if let kind, var reply = await faultReply(kind, contextURL: contextURL) {
            reply.page = position.page
            reply.fault = kind.name
            return reply
        }

        // The page.
        let stored = state.withLock { $0.tenants[tenant]?.collections[path] }
        if stored == nil, configuration.missingCollection == .notFound {
            var r = SimulatorReply.graphError(404, code: "ResourceNotFound", message: "Resource not found for the segment '\(rest.split(separator: "/").last ?? "")'.")
            r.page = position.page
            r.fault = kind?.name
            return r
        }
        let items = stored ?? []
        let start = min(position.offset, items.count)
        let end = min(start + position.pageSize, items.count)
        var pageItems = Array(items[start..<end])
        var body: [String: JSONValue] = ["@odata.context": .string(contextURL)]
        var nextLink: String?
        if end < items.count {
            let next = SkipToken(tenant: tenant, path: path, offset: end, pageSize: position.pageSize, page: position.page + 1)
            nextLink = "\(base)\(path)?$skiptoken=\(next.encoded())"
        }
        switch kind {
        case .itemWithoutId:
            if let first = pageItems.first, case .object(var members) = first {
                members.removeValue(forKey: "id")
                pageItems[0] = .object(members)
            }
        case .foreignNextLink(let url):
            nextLink = url
        case .endlessNextLink:
            nextLink = "\(base)\(path)?$skiptoken=\(position.encoded())"
        default:
            break
        }
        body["value"] = .array(pageItems)
        if let nextLink { body["@odata.nextLink"] = .string(nextLink) }
        var reply = SimulatorReply.json(200, .object(body))
        reply.page = position.page
        reply.fault = kind?.name
        return reply
    }

    /// The reply a fault replaces the normal answer with, or `nil` when the normal answer
    /// follows (after a delay for `slow`; changed by the page builder for page faults).
    func faultReply(_ kind: SimulatedFault.Kind, contextURL: String?) async -> SimulatorReply? {
        switch kind {
        case .status(let status, let retryAfter):
            let (code, message): (String, String) = switch status {
            case 429: ("TooManyRequests", "Too many requests, retry after the time in the Retry-After header.")
            case 503: ("ServiceUnavailable", "The service is temporarily unavailable.")
            case 504: ("GatewayTimeout", "The gateway timed out.")
            case 500: ("InternalServerError", "An internal server error occurred.")
            case 502: ("BadGateway", "Bad gateway.")
            default: ("UnknownError", "Simulated status \(status).")
            }
            var r = SimulatorReply.graphError(status, code: code, message: message)
            if let retryAfter { r.headers.append(("Retry-After", retryAfter)) }
            return r
        case .forbidden:
            return .graphError(403, code: "Forbidden", message:
                "Application is not authorized to perform this operation. Application must have one of the following scopes: DeviceManagementConfiguration.Read.All, DeviceManagementConfiguration.ReadWrite.All")
        case .unauthorized:
            return .graphError(401, code: "InvalidAuthenticationToken", message: "Access token validation failure. Invalid audience.")
        case .nonJSON:
            return SimulatorReply(
                status: 200, headers: [("Content-Type", "text/html; charset=utf-8")],
                body: Data("<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body><h1>Service Unavailable</h1><p>The gateway returned an HTML page.</p></body></html>".utf8))
        case .missingValue:
            var body: [String: JSONValue] = [:]
            if let contextURL { body["@odata.context"] = .string(contextURL) }
            return .json(200, .object(body))
        case .errorBody200(let code, let message):
            return .json(200, SimulatorReply.graphErrorBody(code: code, message: message))
        case .reply(let status, let body):
            return .json(status, body)
        case .resetConnection:
            var r = SimulatorReply(status: 500)
            r.closeConnection = true
            return r
        case .slow(let seconds):
            try? await Task.sleep(for: .seconds(seconds))
            return nil
        case .itemWithoutId, .foreignNextLink, .endlessNextLink:
            return nil
        }
    }
}
