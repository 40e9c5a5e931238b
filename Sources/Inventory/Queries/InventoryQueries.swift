import CanonicalJSON
package import EventLog
import Foundation

/// Read-only queries over the inventory projections. Every query takes a tenant and reads only
/// that tenant's key prefix, in one short read transaction.
package struct InventoryQueries: Sendable {
    package let store: any EventStore

    package init(store: any EventStore) { self.store = store }

    /// The tenant's inventory, optionally of one policy type, ordered by type then external id.
    package func items(tenant: String, policyType: String? = nil) throws -> [InventoryItem] {
        try store.read { r in try Self.items(in: r, tenant: tenant, policyType: policyType) }
    }

    static func items(in r: any KeyValueReader, tenant: String, policyType: String?) throws -> [InventoryItem] {
        let prefix = policyType.map { InventoryKeys.itemTypePrefix(tenant, $0) } ?? InventoryKeys.tenantPrefix(tenant)
        var values: [[UInt8]] = []
        try r.scan(ItemsProjection.table, prefix: prefix) { _, v in
            values.append(Array(v))
            return true
        }
        return try items(in: r, tenant: tenant, values: values)
    }

    /// At most `limit` items of the tenant (optionally of one policy type) after `after`, in
    /// the same order as ``items(tenant:policyType:)``, read in one read transaction; the page's
    /// `next` is where the following page starts (`nil` at the end).
    package func items(tenant: String, policyType: String? = nil, after: ItemsCursor?, limit: Int) throws -> ItemsPage {
        precondition(limit > 0, "a page holds at least one item")
        return try store.read { r in
            let prefix = policyType.map { InventoryKeys.itemTypePrefix(tenant, $0) } ?? InventoryKeys.tenantPrefix(tenant)
            let start = after.map { InventoryKeys.tenantPrefix(tenant) + $0.keyTail }
            var rows: [[UInt8]] = []
            var more = false
            try r.scan(ItemsProjection.table, prefix: prefix, from: start, reverse: false) { k, v in
                if let start, k.elementsEqual(start) { return true }  // the cursor's own item was on the last page
                if rows.count == limit {
                    more = true
                    return false
                }
                rows.append(Array(v))
                return true
            }
            let items = try Self.items(in: r, tenant: tenant, values: rows)
            let next = more ? items.last.map { ItemsCursor(policyType: $0.policyType, externalID: $0.externalID) } : nil
            return ItemsPage(items: items, next: next)
        }
    }

    /// The row of one item, or `nil`.
    package func item(tenant: String, policyType: String, externalID: String) throws -> InventoryItem? {
        try store.read { r in
            guard let v = try r.get(ItemsProjection.table, InventoryKeys.item(tenant, policyType, externalID)) else { return nil }
            return try Self.item(in: r, tenant: tenant, value: v)
        }
    }

    /// The item whose `items` row is `v`: the row's first-seen time and position, the rest read
    /// from the observation at its last-seen position. A stored (canonical) envelope is read
    /// in place (``ItemObserved/RowFields``); any other is decoded in full.
    static func item(in r: any KeyValueReader, tenant: String, value v: [UInt8]) throws -> InventoryItem {
        try items(in: r, tenant: tenant, values: [v])[0]
    }

    /// The items whose `items` rows are `values`, in their order, their observations read
    /// together (``KeyValueReader/rawEvents(at:)``).
    static func items(in r: any KeyValueReader, tenant: String, values: [[UInt8]]) throws -> [InventoryItem] {
        let rows = try values.map { v in
            guard let row = v.withUnsafeBytes(ItemRow.init(decoding:)) else {
                throw InventoryPayloadError("items row has \(v.count) bytes, expected \(ItemRow.size)")
            }
            return row
        }
        let events = try r.rawEvents(at: rows.map(\.lastSeenPosition))
        return try zip(rows, events).map { row, raw in
            let (firstSeen, lastPosition) = (row.firstSeenAt, row.lastSeenPosition)
            guard let raw else {
                throw InventoryPayloadError("items row points at position \(lastPosition), beyond the head")
            }
            if let item = Self.readItem(raw.json, tenant: tenant, firstSeenAt: firstSeen, position: lastPosition) { return item }
            return try decodeItem(raw, tenant: tenant, firstSeenAt: firstSeen)
        }
    }

    /// The item read from the envelope's bytes without decoding them; `nil` when they do not
    /// read as an `item_observed` of `tenant` laid out as stored.
    static func readItem(_ json: [UInt8], tenant: String, firstSeenAt: Int64, position: UInt64) -> InventoryItem? {
        json.withUnsafeBytes { b -> InventoryItem? in
            guard let h = EnvelopeHeader.read(b), h.tenant == tenant, h.recordedAtRange.count > 2,
                  let recorded = Timestamp(rfc3339: String(decoding: b[(h.recordedAtRange.lowerBound + 1)..<(h.recordedAtRange.upperBound - 1)], as: UTF8.self)),
                  let p = ItemObserved.RowFields(UnsafeRawBufferPointer(rebasing: b[h.dataRange])) else { return nil }
            return InventoryItem(
                tenant: h.tenant, policyType: p.policyType, externalID: p.externalID, displayName: p.displayName,
                category: p.category, platform: p.platform, metaJSON: p.metaJSON, contentSHA256: p.contentSHA256,
                firstSeenAt: Timestamp(millisecondsSinceEpoch: firstSeenAt), lastSeenAt: recorded,
                lastSeenRunID: p.runID, lastSeenPosition: position)
        }
    }

    /// The item from the envelope decoded in full (and checked as a decode checks it).
    static func decodeItem(_ raw: RawEvent, tenant: String, firstSeenAt: Int64) throws -> InventoryItem {
        let e = try raw.decode().envelope
        let p = try ItemObserved(data: e.data)
        guard e.tenant == tenant else { throw InventoryPayloadError("items row of \(tenant) points at another tenant's event") }
        return InventoryItem(
            tenant: e.tenant, policyType: p.policyType, externalID: p.externalID, displayName: p.displayName,
            category: p.category, platform: p.platform, metaJSON: try CanonicalJSON.serialize(.object(p.meta)),
            contentSHA256: p.contentSHA256, firstSeenAt: Timestamp(millisecondsSinceEpoch: firstSeenAt),
            lastSeenAt: e.recordedAt, lastSeenRunID: p.runID, lastSeenPosition: raw.position)
    }

    /// The tenant's runs, newest first.
    package func runs(tenant: String) throws -> [SyncRun] {
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
    package func run(tenant: String, runID: String) throws -> SyncRun? {
        guard let id = EventID(runID) else { return nil }
        return try store.read { r in try SyncRunsProjection.load(r, tenant, id.bytes) }
    }

    /// The latest completed run of a tenant + selection, by the position of its finish event.
    package func latestCompletedRun(tenant: String, selectionHash: String) throws -> SyncRun? {
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
}
