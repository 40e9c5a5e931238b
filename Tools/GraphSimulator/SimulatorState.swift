import CanonicalJSON
import Foundation

/// The simulator's mutable state; always accessed under the simulator's lock.
struct SimulatorState: Sendable {
    /// An issued access token.
    struct IssuedToken: Sendable {
        var tenant: String
        var expires: Date
    }

    var tenantOrder: [String] = []
    var tenants: [String: SimulatedTenant] = [:]
    var tokens: [String: IssuedToken] = [:]
    var faults: [InjectedFault] = []
    var nextFaultID = 1
    var log: [RecordedRequest] = []
    var tokenLifetime: TimeInterval

    init(seed: SimulatorSeed, tokenLifetime: TimeInterval) {
        self.tokenLifetime = tokenLifetime
        for tenant in seed.tenants { upsertTenant(tenant) }
    }

    mutating func upsertTenant(_ tenant: SimulatedTenant) {
        if tenants[tenant.id] == nil { tenantOrder.append(tenant.id) }
        tenants[tenant.id] = tenant
    }

    /// Issues a token for `tenant` and returns it.
    mutating func issueToken(tenant: String, now: Date) -> String {
        var bytes = [UInt8](repeating: 0, count: 48)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        let token = "sim." + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        tokens[token] = IssuedToken(tenant: tenant, expires: now.addingTimeInterval(tokenLifetime))
        return token
    }

    /// Removes tokens (of one tenant, or all) and returns how many were removed.
    mutating func revokeTokens(tenant: String?) -> Int {
        let before = tokens.count
        if let tenant {
            tokens = tokens.filter { $0.value.tenant != tenant }
        } else {
            tokens.removeAll()
        }
        return before - tokens.count
    }

    mutating func addFault(tenant: String, path: String, fault: SimulatedFault) -> Int {
        let id = nextFaultID
        nextFaultID += 1
        if fault.times != 0 {
            faults.append(InjectedFault(id: id, tenant: tenant, path: GraphPath.normalize(path), fault: fault))
        }
        return id
    }

    /// Removes faults matching the filters; returns how many.
    mutating func clearFaults(tenant: String?, path: String?, id: Int?) -> Int {
        let before = faults.count
        let p = path.map(GraphPath.normalize)
        faults.removeAll { f in
            (tenant == nil || f.tenant == tenant) && (p == nil || f.path == p) && (id == nil || f.id == id)
        }
        return before - faults.count
    }

    /// Fires the first armed fault matching the request, counting it down.
    mutating func takeFault(tenant: String, path: String, page: Int?) -> SimulatedFault.Kind? {
        guard let index = faults.firstIndex(where: { f in
            (f.tenant == tenant || f.tenant == "*") && f.path == path
                && (f.fault.page == nil || f.fault.page == page)
        }) else { return nil }
        let kind = faults[index].fault.kind
        faults[index].fired += 1
        if let left = faults[index].fault.times {
            if left <= 1 {
                faults.remove(at: index)
            } else {
                faults[index].fault.times = left - 1
            }
        }
        return kind
    }

    mutating func record(_ entry: RecordedRequest) {
        var e = entry
        e.sequence = log.count + 1
        log.append(e)
    }
}
