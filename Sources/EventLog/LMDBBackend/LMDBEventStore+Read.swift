import Foundation
import LMDB

extension LMDBEventStore {
    package func head() throws -> LogHead {
        try mapErrorsSync { try env.read { try readHead($0) } }
    }

    package func rawEvents(from position: UInt64, limit: Int) throws -> [RawEvent] {
        guard limit > 0 else { return [] }
        return try mapErrorsSync {
            try env.read { txn in
                try txn.withCursor(events) { c in
                    var out: [RawEvent] = []
                    out.reserveCapacity(min(limit, 4096))
                    var e = try c.seek(atLeast: UInt64BE.bytes(max(position, 1)))
                    while let entry = e, out.count < limit {
                        let p = try UInt64BE.decode(entry.key)
                        // Keys out of B-tree order (a damaged page) would hand readers positions
                        // going backwards: refuse instead.
                        let floor = out.last.map { $0.position + 1 } ?? max(position, 1)
                        guard p >= floor else {
                            throw EventLogError(.corruptEvent, "the events table's keys are out of order: position \(p) follows position \(max(floor, 1) - 1); run `atlas-replay verify`")
                        }
                        out.append(RawEvent(position: p, stored: try StoredEvent(entry.value, at: p)))
                        e = try c.next()
                    }
                    return out
                }
            }
        }
    }

    package func tenantPositions(_ tenant: String, after position: UInt64, limit: Int) throws -> [UInt64] {
        guard limit > 0, position < .max else { return [] }
        let prefix = TenantEventKey.prefix(tenant)
        let start = TenantEventKey.key(tenant, position: position + 1)
        return try mapErrorsSync {
            try env.read { txn in
                try txn.withCursor(tenantEvents) { c in
                    var out: [UInt64] = []
                    var e = try start.withUnsafeBytes { try c.seekRaw(atLeast: $0) }
                    while let entry = e, out.count < limit, entry.key.starts(with: prefix),
                          let p = TenantEventKey.position(entry.key, prefixBytes: prefix.count) {
                        guard p > (out.last ?? position) else {
                            throw EventLogError(.corruptEvent, "the tenant index of \(tenant) is out of order at position \(p); run `atlas-replay verify`")
                        }
                        out.append(p)
                        e = try c.next()
                    }
                    return out
                }
            }
        }
    }

    /// Every tenant with at least one event, in byte order.
    package func tenants() throws -> [String] {
        try mapErrorsSync {
            try env.read { txn in
                try txn.withCursor(tenantEvents) { c in
                    var out: [String] = []
                    var e = try c.first()
                    while let entry = e {
                        guard let nul = entry.key.firstIndex(of: 0) else { break }
                        let name = Array(entry.key[0..<nul])
                        out.append(String(decoding: name, as: UTF8.self))
                        // Skip to the first key after this tenant's range.
                        e = try (name + [1]).withUnsafeBytes { try c.seekRaw(atLeast: $0) }
                    }
                    return out
                }
            }
        }
    }

    package func position(of id: EventID) throws -> UInt64? {
        try mapErrorsSync {
            try env.read { txn in
                try id.withUnsafeBytes { k in try txn.withRawValue(eventIDs, forRawKey: k) { try UInt64BE.decode($0) } }
            }
        }
    }

    package func read<R>(_ body: (any KeyValueReader) throws -> R) throws -> R {
        while true {
            let (generations, handles) = cachedProjectionHandles()
            let all = handles.merging(stateHandles) { a, _ in a }
            do {
                return try env.read { txn in
                    try verifyGenerations(txn, generations)
                    return try body(LMDBTables(read: txn, handles: all, events: events))
                }
            } catch is GenerationChanged {
                try refreshProjectionHandles()
            } catch let e as LMDBError {
                throw Self.mapError(e)
            }
        }
    }

    func mapErrorsSync<R>(_ body: () throws -> R) throws -> R {
        do { return try body() } catch { throw Self.mapError(error) }
    }
}
