import AtlasTesting
import CanonicalJSON
import EventLog
import EventLogPostgres
import Foundation
import Testing

/// The two backends every conformance test runs against.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case lmdb
    case postgres

    var testDescription: String { rawValue }
}

/// A place for one test's store on either backend, which can be opened again (as another
/// process or host would).
struct StoreLocation: Sendable {
    let backend: Backend
    /// The LMDB directory or the PostgreSQL URL.
    let address: String

    static func fresh(_ backend: Backend, _ label: String = "store") async throws -> StoreLocation {
        switch backend {
        case .lmdb:
            var template = Array((NSTemporaryDirectory() + "/pgconformance-XXXXXX").utf8CString)
            let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
            return StoreLocation(backend: .lmdb, address: dir + "/store")
        case .postgres:
            return StoreLocation(backend: .postgres, address: try await PostgresTestCluster.shared().createDatabase(label))
        }
    }

    func open(create: Bool = true, projections: [any Projection] = [], stateTables: [String] = [],
              readOnly: Bool = false) throws -> any EventStore {
        switch backend {
        case .lmdb:
            return try LMDBEventStore.open(path: address, options: .init(
                create: create, readOnly: readOnly, projections: projections, stateTables: stateTables))
        case .postgres:
            return try PostgresEventStore.open(url: address, options: .init(
                create: create, readOnly: readOnly, projections: projections, stateTables: stateTables))
        }
    }
}

func makeEvent(tenant: String = "acme", type: String = "test.happened", n: Int = 0, id: EventID = .generate()) -> EventEnvelope {
    EventEnvelope(id: id, type: type, schema: 1, tenant: tenant, recordedAt: .now(), correlationID: "run-1",
                  data: ["n": .number(Double(n)), "name": .string("item \(n) ☃"), "ok": .bool(true), "nested": ["a": [1, 2, 3]]])
}

/// Counts events per tenant (read-modify-write with `update`) and remembers each tenant's last
/// position (`put`) and every position of an odd `n` (a prefix to scan).
struct TenantCounts: Projection {
    var version = 1
    let name = "tenant_counts"
    var tableNames = ["counts", "last", "odd"]

    func apply(_ event: ProjectionEvent, to tables: any KeyValueWriter) throws {
        let key = Array(event.tenant.utf8)
        try key.withUnsafeBytes { k in
            try tables.update(table("counts"), key: k) { v in
                let n = v.map { $0.reduce(0) { $0 << 8 | UInt64($1) } } ?? 0
                v = withUnsafeBytes(of: (n + 1).bigEndian) { Array($0) }
            }
        }
        try tables.put(table("last"), key, withUnsafeBytes(of: event.position.bigEndian) { Array($0) })
        let e = try event.decoded().envelope
        if case .number(let n)? = e.data["n"], Int(n) % 2 == 1 {
            try tables.put(table("odd"), key + [0] + withUnsafeBytes(of: event.position.bigEndian) { Array($0) }, [1])
        }
        tables.tally("applied", 1)
    }
}

func counts(_ store: any EventStore) throws -> [String: UInt64] {
    try store.read { r in
        var out: [String: UInt64] = [:]
        try r.scan(.projection("tenant_counts", "counts"), prefix: []) { k, v in
            out[String(decoding: k, as: UTF8.self)] = v.reduce(0) { $0 << 8 | UInt64($1) }
            return true
        }
        return out
    }
}

/// Every row of every table of `projection`, by table.
func dumpProjection(_ store: any EventStore, _ p: any Projection) throws -> [String: [[UInt8]: [UInt8]]] {
    try store.read { r in
        var out: [String: [[UInt8]: [UInt8]]] = [:]
        for t in p.tableNames {
            var rows: [[UInt8]: [UInt8]] = [:]
            try r.scan(.projection(p.name, t), prefix: []) { k, v in
                rows[Array(k)] = Array(v)
                return true
            }
            out[t] = rows
        }
        return out
    }
}

func allRawEvents(_ store: any EventStore) throws -> [RawEvent] {
    var out: [RawEvent] = []
    try store.forEachRawEvent(chunk: 300) { out.append($0); return true }
    return out
}


func expectCode(_ code: EventLogError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("expected \(code.rawValue), nothing was thrown", sourceLocation: sourceLocation)
    } catch let e as EventLogError {
        #expect(e.code == code, "\(e)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected EventLogError \(code.rawValue), got \(error)", sourceLocation: sourceLocation)
    }
}

struct Refused: Error {}
