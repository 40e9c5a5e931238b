package import CanonicalJSON
package import EventLog
import Foundation

/// `atlas-replay stats`: counts per type and tenant, head, sizes and projection bookkeeping.
package struct StoreStats: Sendable {
    package var head: LogHead
    package var events: UInt64
    package var perType: [String: UInt64]
    package var perTenant: [String: UInt64]
    /// The embedded store's sizes; `nil` for a store on a server.
    package var sizes: Sizes?
    package var projections: [ProjectionStatus]
    package var metadata: [String: String]

    /// Counts every event through the head at the start, in chunked reads.
    package static func collect(_ store: any EventStore) throws -> StoreStats {
        let head = try store.head()
        var perType: [String: UInt64] = [:]
        var perTenant: [String: UInt64] = [:]
        var n: UInt64 = 0
        try store.forEachRawEvent(from: 1, through: head.position, chunk: 8192) { raw in
            let tenant: String, type: String
            if let f = EnvelopeFields.read(raw.json) { (tenant, type) = (f.tenant, f.type) } else {
                let e = try raw.decode().envelope
                (tenant, type) = (e.tenant, e.type)
            }
            perType[type, default: 0] += 1
            perTenant[tenant, default: 0] += 1
            n += 1
            return true
        }
        let sizes = (store as? LMDBEventStore).map { s in
            let sizes = s.sizes()
            return Sizes(usedBytes: sizes.usedBytes, fileBytes: sizes.fileBytes, mapBytes: sizes.mapSize)
        }
        return StoreStats(head: head, events: n, perType: perType, perTenant: perTenant, sizes: sizes,
                          projections: try store.projectionStatus(), metadata: try store.metadata())
    }

    package var json: JSONValue {
        var fields: [String: JSONValue] = [
            "head": .object(["position": .number(Double(head.position)), "chain": .string(head.chainHash.hex)]),
            "events": .number(Double(events)),
            "per_type": .object(perType.mapValues { .number(Double($0)) }),
            "per_tenant": .object(perTenant.mapValues { .number(Double($0)) }),
            "projections": .array(projections.map { p in
                .object(["name": .string(p.name), "version": .number(Double(p.version)),
                         "generation": .number(Double(p.generation)), "checkpoint": .number(Double(p.checkpoint)),
                         "entries": .object(p.entries.mapValues { .number(Double($0)) })])
            }),
            "store": .object(metadata.mapValues { .string($0) }),
        ]
        if let sizes {
            fields["size"] = .object(["used_bytes": .number(Double(sizes.usedBytes)), "file_bytes": .number(Double(sizes.fileBytes)),
                                      "map_bytes": .number(Double(sizes.mapBytes))])
        }
        return .object(fields)
    }
}
