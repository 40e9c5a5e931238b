import CanonicalJSON
import EventLog
import Hummingbird
import Inventory

extension AtlasServer {
    /// The default and largest page of `items`.
    static let defaultPage = 1000
    static let largestPage = 100_000

    /// Answers an authenticated API request.
    func api(_ route: APIRoute, parameters: [String: String], request r: IncomingRequest, grant: AccessGrant) async throws -> Response {
        switch route {
        case .health:
            return Reply.json(.object(["status": .string("ok")]))
        case .openAPI:
            return Reply.bytes(Array(OpenAPIDocument.json.utf8), contentType: "application/json")
        case .head:
            let head = try store.head()
            return Reply.json(.object(["position": .number(Double(head.position)), "chain": .string(head.chainHash.hex)]))
        case .tenants:
            return Reply.json(.array(try queries.tenants().filter { grant.allows($0.tenant) }.map(\.json)))
        case .events:
            return try eventStream(r, grant: grant)
        case .items, .runs, .missing, .history, .changes:
            let tenant = try visibleTenant(parameters["tenant"] ?? "", grant: grant)
            switch route {
            case .items: return Reply.json(try itemsPage(tenant: tenant, r).json)
            case .runs: return Reply.json(.array(try queries.runs(tenant: tenant).map(\.json)))
            case .missing: return Reply.json(try missing(tenant: tenant, r).json)
            case .history:
                let type = parameters["policy_type"] ?? ""
                guard PolicyTypeRegistry.type(type) != nil else {
                    throw APIProblem(.invalidParameter, "unknown policy type \"\(type.prefix(64))\"")
                }
                return Reply.json(try queries.history(tenant: tenant, policyType: type, externalID: parameters["id"] ?? "").json)
            default: return Reply.json(try changes(tenant: tenant, r).json)
            }
        }
    }

    /// One page of `items`: `?limit=` (1-100000, default 1000), `?after=` (a page's `next`),
    /// `?policy_type=`.
    func itemsPage(tenant: String, _ r: IncomingRequest) throws -> ItemsPage {
        let policyType = r.parameter("policy_type").flatMap { $0.isEmpty ? nil : $0 }
        if let policyType, PolicyTypeRegistry.type(policyType) == nil {
            throw APIProblem(.invalidParameter, "unknown policy type \"\(policyType.prefix(64))\"")
        }
        var limit = Self.defaultPage
        if let text = r.parameter("limit") {
            guard let n = Int(text), (1...Self.largestPage).contains(n) else {
                throw APIProblem(.invalidParameter, "limit must be 1-\(Self.largestPage), not \"\(text.prefix(32))\"")
            }
            limit = n
        }
        var after: ItemsCursor?
        if let text = r.parameter("after"), !text.isEmpty {
            guard let cursor = ItemsCursor(text: text) else {
                throw APIProblem(.invalidParameter, "after \"\(text.prefix(80))\" is not a cursor (give the `next` a page ended with)")
            }
            if let policyType, cursor.policyType != policyType {
                throw APIProblem(.invalidParameter, "after is a cursor into \(cursor.policyType.prefix(64)), not policy_type \(policyType)")
            }
            after = cursor
        }
        return try queries.items(tenant: tenant, policyType: policyType, after: after, limit: limit)
    }

    /// The selection of `?selection=` (JSON) or `?selection_hash=` (8-64 hex digits, recovered
    /// from the tenant's runs).
    func selection(tenant: String, _ r: IncomingRequest) throws -> Selection {
        let json = r.parameter("selection"), hash = r.parameter("selection_hash")
        guard (json == nil) != (hash == nil) else { throw APIProblem(.invalidParameter, "give exactly one of selection and selection_hash") }
        if let json {
            do { return try SelectionParser.parse(json).selection } catch {
                throw APIProblem(.invalidParameter, "selection: \(error.message)")
            }
        }
        let prefix = hash!.lowercased()
        guard prefix.count >= 8, prefix.count <= 64, prefix.allSatisfy(\.isHexDigit) else {
            throw APIProblem(.invalidParameter, "selection_hash \"\(prefix.prefix(80))\" must be 8-64 hex digits")
        }
        let runs = try queries.runs(tenant: tenant)
        do { return try InventoryQueries.selection(hash: prefix, tenant: tenant, runs: runs) } catch {
            switch error {
            case .unknown: throw APIProblem(.selectionNotFound, error.description)
            case .ambiguous, .changedMeaning: throw APIProblem(.invalidParameter, error.description)
            }
        }
    }

    func missing(tenant: String, _ r: IncomingRequest) throws -> MissingReport {
        try queries.missing(tenant: tenant, selection: try selection(tenant: tenant, r))
    }

    /// `?selection=` (JSON or a 64-hex hash) or `?selection_hash=`, `?from_run=`, `?to_run=`.
    func changes(tenant: String, _ r: IncomingRequest) throws -> RunChanges {
        var r2 = r
        if let s = r.parameter("selection"), s.utf8.count == 64, s.allSatisfy(\.isHexDigit) {
            r2.query["selection"] = nil
            r2.query["selection_hash"] = [s.lowercased()]
        }
        let hash = try selection(tenant: tenant, r2).hash
        for name in ["from_run", "to_run"] {
            if let v = r.parameter(name), EventID(v) == nil {
                throw APIProblem(.invalidParameter, "\(name) \"\(v.prefix(64))\" is not a run id (a UUID)")
            }
        }
        do {
            return try queries.changes(tenant: tenant, selectionHash: hash, fromRunID: r.parameter("from_run"), toRunID: r.parameter("to_run"))
        } catch let e as InventoryQueries.ChangesError {
            switch e {
            case .unknownRun: throw APIProblem(.runNotFound, e.description)
            default: throw APIProblem(.changesUnavailable, e.description)
            }
        }
    }
}
