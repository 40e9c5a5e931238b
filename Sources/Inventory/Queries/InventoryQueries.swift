import CanonicalJSON
import EventLog
import Foundation

/// Read-only queries over the inventory projections. Every query takes a tenant and reads only
/// that tenant's key prefix, in one short read transaction.
public struct InventoryQueries: Sendable {
    public let store: any EventStore

    public init(store: any EventStore) { self.store = store }

    /// The tenant's inventory, optionally of one policy type, ordered by type then external id.
    public func items(tenant: String, policyType: String? = nil) throws -> [InventoryItem] {
        try store.read { r in try Self.items(in: r, tenant: tenant, policyType: policyType) }
    }

    static func items(in r: any KeyValueReader, tenant: String, policyType: String?) throws -> [InventoryItem] {
        let prefix = policyType.map { InventoryKeys.itemTypePrefix(tenant, $0) } ?? InventoryKeys.tenantPrefix(tenant)
        var rows: [(key: [UInt8], value: [UInt8])] = []
        try r.scan(ItemsProjection.table, prefix: prefix) { k, v in
            rows.append((Array(k), Array(v)))
            return true
        }
        return try rows.map { try item(in: r, tenant: tenant, value: $0.value) }
    }

    /// The row of one item, or `nil`.
    public func item(tenant: String, policyType: String, externalID: String) throws -> InventoryItem? {
        try store.read { r in
            guard let v = try r.get(ItemsProjection.table, InventoryKeys.item(tenant, policyType, externalID)) else { return nil }
            return try Self.item(in: r, tenant: tenant, value: v)
        }
    }

    static func item(in r: any KeyValueReader, tenant: String, value v: [UInt8]) throws -> InventoryItem {
        guard v.count == 56 else { throw InventoryPayloadError("items row has \(v.count) bytes, expected 56") }
        let (firstSeen, lastPosition) = v.withUnsafeBytes { b in
            (Int64(bitPattern: InventoryKeys.readUInt64(b, at: 0)), InventoryKeys.readUInt64(b, at: 16))
        }
        guard let raw = try r.rawEvent(at: lastPosition) else {
            throw InventoryPayloadError("items row points at position \(lastPosition), beyond the head")
        }
        let e = try raw.decode().envelope
        let p = try ItemObserved(data: e.data)
        guard e.tenant == tenant else { throw InventoryPayloadError("items row of \(tenant) points at another tenant's event") }
        return InventoryItem(
            tenant: e.tenant, policyType: p.policyType, externalID: p.externalID, displayName: p.displayName,
            category: p.category, platform: p.platform, meta: p.meta, contentSHA256: p.contentSHA256,
            firstSeenAt: Timestamp(millisecondsSinceEpoch: firstSeen), lastSeenAt: e.recordedAt,
            lastSeenRunID: p.runID, lastSeenPosition: lastPosition)
    }

    /// The tenant's runs, newest first.
    public func runs(tenant: String) throws -> [SyncRun] {
        try store.read { r in
            var out: [SyncRun] = []
            try r.scan(SyncRunsProjection.runs, prefix: InventoryKeys.tenantPrefix(tenant), from: nil, reverse: true) { _, v in
                out.append(try SyncRun(json: try JSONParser().parse(v)))
                return true
            }
            return out
        }
    }

    /// One run, or `nil`.
    public func run(tenant: String, runID: String) throws -> SyncRun? {
        guard let id = EventID(runID) else { return nil }
        return try store.read { r in try SyncRunsProjection.load(r, tenant, id.bytes) }
    }

    /// The latest completed run of a tenant + selection, by the position of its finish event.
    public func latestCompletedRun(tenant: String, selectionHash: String) throws -> SyncRun? {
        try store.read { r in try Self.latestCompletedRun(in: r, tenant: tenant, selectionHash: selectionHash) }
    }

    static func latestCompletedRun(in r: any KeyValueReader, tenant: String, selectionHash: String) throws -> SyncRun? {
        let prefix = InventoryKeys.completedPrefix(tenant, try InventoryKeys.hashBytes(selectionHash))
        var runID: [UInt8]?
        try r.scan(SyncRunsProjection.completed, prefix: prefix, from: nil, reverse: true) { _, v in
            runID = Array(v)
            return false
        }
        guard let runID else { return nil }
        return try SyncRunsProjection.load(r, tenant, runID)
    }

    /// What the latest completed run of `tenant` + `selection` did not see (see ``MissingReport``).
    /// Derived on every call; nothing is stored.
    public func missing(tenant: String, selection: Selection) throws -> MissingReport {
        try missing(tenant: tenant, selectionHash: selection.hash, coveredTypes: selection.resolvedTypes.map(\.key))
    }

    func missing(tenant: String, selectionHash: String, coveredTypes: [String]) throws -> MissingReport {
        try store.read { r in try Self.missing(in: r, tenant: tenant, selectionHash: selectionHash, coveredTypes: coveredTypes) }
    }

    static func missing(in r: any KeyValueReader, tenant: String, selectionHash: String, coveredTypes: [String]) throws -> MissingReport {
        guard let latest = try latestCompletedRun(in: r, tenant: tenant, selectionHash: selectionHash) else {
            return MissingReport(latestRun: nil, lowConfidence: true, missing: [], unknown: [])
        }
        let latestID = try InventoryKeys.runIDBytes(latest.runID)
        let hash = try InventoryKeys.hashBytes(selectionHash)
        var completedCache: [[UInt8]: Bool] = [latestID: true]
        var missingKeys: [(String, String)] = []
        var unknownKeys: [(String, String)] = []
        let types = latest.resolvedTypes.isEmpty ? coveredTypes : latest.resolvedTypes
        for type in types {
            let complete = latest.types[type]?.complete ?? false
            let prefix = InventoryKeys.observationTypePrefix(tenant, hash, type)
            var candidates: [(String, [[UInt8]])] = []
            try r.scan(ObservationsProjection.table, prefix: prefix) { k, v in
                // Fast path: the latest run observed it (compared in place: this runs per item).
                if v.count >= 16, latestID.withUnsafeBytes({ memcmp(v.baseAddress!, $0.baseAddress!, 16) }) == 0 { return true }
                let id = String(decoding: k[prefix.count...], as: UTF8.self)
                var runs: [[UInt8]] = []
                var i = 0
                while i + 16 <= v.count { runs.append(Array(v[i..<i + 16])); i += 16 }
                candidates.append((id, runs))
                return true
            }
            for (externalID, runs) in candidates {
                // The newest completed run that observed the item decides.
                var decisive: [UInt8]?
                for run in runs {
                    let done: Bool
                    if let c = completedCache[run] { done = c } else {
                        done = try SyncRunsProjection.load(r, tenant, run)?.isCompleted ?? false
                        completedCache[run] = done
                    }
                    if done { decisive = run; break }
                }
                guard let decisive, decisive != latestID else { continue }
                if complete { missingKeys.append((type, externalID)) } else { unknownKeys.append((type, externalID)) }
            }
        }
        func rows(_ keys: [(String, String)]) throws -> [InventoryItem] {
            try keys.compactMap { type, id in
                guard let v = try r.get(ItemsProjection.table, InventoryKeys.item(tenant, type, id)) else { return nil }
                return try item(in: r, tenant: tenant, value: v)
            }
        }
        let low = latest.status != .success || latest.hadErrors
        return MissingReport(latestRun: latest, lowConfidence: low, missing: try rows(missingKeys), unknown: try rows(unknownKeys))
    }
}
