import CanonicalJSON
import Foundation

extension GraphSimulator {
    /// Control endpoints under `/_sim/`, with JSON bodies, for tests in other processes.
    ///
    /// - `GET /_sim/health` → `{"status":"ok"}`
    /// - `GET /_sim/tenants` → tenants with credentials and item counts per collection
    /// - `POST /_sim/tenants` `{"id","client_id","client_secret","collections":{…}}` → add or replace
    /// - `GET /_sim/items?tenant=&path=` → `{"value":[…]}`
    /// - `POST /_sim/items` `{"tenant","path","item":{…}}` or `"items":[…]` (upsert by `id`);
    ///   with `"replace": true` the list replaces the collection
    /// - `DELETE /_sim/items?tenant=&path=&id=` → removes one item (without `id`: the collection)
    /// - `POST /_sim/faults` `{"tenant","path","fault":{…}}` → `{"id":n}`
    /// - `GET /_sim/faults`, `DELETE /_sim/faults[?tenant=&path=&id=]`
    /// - `POST /_sim/revoke-tokens` `[{"tenant":…}]` → `{"revoked":n}`
    /// - `POST /_sim/token-lifetime` `{"seconds":x}`
    /// - `GET /_sim/requests`, `DELETE /_sim/requests`
    func handleControl(_ request: IncomingRequest) -> SimulatorReply {
        let json = "application/json; charset=utf-8"
        func ok(_ value: JSONValue) -> SimulatorReply { .json(200, value, contentType: json) }
        func bad(_ message: String, _ status: Int = 400) -> SimulatorReply {
            .json(status, ["error": .string(message)], contentType: json)
        }
        func body() throws -> JSONValue {
            if request.body.isEmpty { return .object([:]) }
            return try JSONBridge.decode(request.body)
        }
        func param(_ name: String, _ b: JSONValue) -> String? {
            request.query[name] ?? b[name]?.stringValue
        }
        let route = String(request.path.dropFirst("/_sim".count))
        do {
            switch (request.method, route) {
            case ("GET", "/health"):
                return ok(["status": "ok", "base_url": baseURL.map(JSONValue.string) ?? .null])

            case ("GET", "/tenants"):
                return ok(["value": .array(tenants().map { t in
                    [
                        "id": .string(t.id), "client_id": .string(t.clientID), "client_secret": .string(t.clientSecret),
                        "collections": .object(t.collections.mapValues { .number(Double($0.count)) }),
                    ]
                })])

            case ("POST", "/tenants"):
                let b = try body()
                addTenant(try SimulatedTenant(json: b["tenant"] ?? b))
                return ok(["ok": true])

            case ("GET", "/items"):
                guard let tenant = request.query["tenant"], let path = request.query["path"] else {
                    return bad("tenant and path are required")
                }
                guard let list = items(tenant: tenant, path: path) else { return bad("no such tenant or collection", 404) }
                return ok(["value": .array(list)])

            case ("POST", "/items"):
                let b = try body()
                guard let tenant = param("tenant", b), let path = param("path", b) else {
                    return bad("tenant and path are required")
                }
                guard self.tenant(tenant) != nil else { return bad("unknown tenant \(tenant)", 404) }
                var list: [JSONValue] = []
                if let item = b["item"] { list.append(item) }
                if let more = b["items"]?.arrayValue { list += more }
                if b["replace"]?.boolValue == true {
                    setItems(tenant: tenant, path: path, items: list)
                } else {
                    for item in list { upsertItem(tenant: tenant, path: path, item: item) }
                }
                return ok(["count": .number(Double(items(tenant: tenant, path: path)?.count ?? 0))])

            case ("DELETE", "/items"):
                let b = try body()
                guard let tenant = param("tenant", b), let path = param("path", b) else {
                    return bad("tenant and path are required")
                }
                if let id = param("id", b) {
                    return ok(["removed": .bool(removeItem(tenant: tenant, path: path, id: id))])
                }
                return ok(["removed": .bool(removeCollection(tenant: tenant, path: path))])

            case ("POST", "/faults"):
                let b = try body()
                guard let tenant = b["tenant"]?.stringValue, let path = b["path"]?.stringValue else {
                    return bad("tenant and path are required")
                }
                guard let f = b["fault"] else { return bad("fault is required") }
                let id = addFault(tenant: tenant, path: path, try SimulatedFault(json: f))
                return ok(["id": .number(Double(id))])

            case ("GET", "/faults"):
                return ok(["value": .array(faults().map(\.jsonValue))])

            case ("DELETE", "/faults"):
                let b = try body()
                let id = param("id", b).flatMap(Int.init) ?? b["id"]?.intValue
                let n = clearFaults(tenant: param("tenant", b), path: param("path", b), id: id)
                return ok(["removed": .number(Double(n))])

            case ("POST", "/revoke-tokens"):
                let b = try body()
                return ok(["revoked": .number(Double(revokeTokens(tenant: param("tenant", b))))])

            case ("POST", "/token-lifetime"):
                let b = try body()
                guard let seconds = b["seconds"]?.doubleValue, seconds >= 0 else { return bad("seconds >= 0 is required") }
                setTokenLifetime(seconds)
                return ok(["seconds": .number(seconds)])

            case ("GET", "/requests"):
                return ok(["value": .array(requests().map(\.jsonValue))])

            case ("DELETE", "/requests"):
                clearRequests()
                return ok(["ok": true])

            default:
                return bad("unknown control endpoint \(request.method) \(request.path)", 404)
            }
        } catch {
            return bad("\(error)")
        }
    }
}
