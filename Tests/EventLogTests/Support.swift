import AtlasTesting
import CanonicalJSON
import Crypto
import EventLog
import Foundation
import LMDB
import Testing

/// A fresh, not yet existing path under a fresh temporary parent directory.
func tempPath(_ name: String = "store") -> String {
    var template = Array((NSTemporaryDirectory() + "/eventlogtests-XXXXXX").utf8CString)
    let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    return dir + "/" + name
}

func makeEvent(tenant: String = "acme", type: String = "test.happened", n: Int = 0, id: EventID = .generate(),
               correlation: String? = "run-1") -> EventEnvelope {
    EventEnvelope(id: id, type: type, schema: 1, tenant: tenant, recordedAt: .now(), correlationID: correlation,
                  data: ["n": .number(Double(n)), "name": .string("item \(n) ☃"), "ok": .bool(true), "nested": ["a": [1, 2, 3]]])
}

func openStore(_ path: String, create: Bool = true, projections: [any Projection] = [], stateTables: [String] = [],
               readOnly: Bool = false, durability: Durability = .durable) throws -> LMDBEventStore {
    try LMDBEventStore.open(path: path, options: .init(
        create: create, durability: durability, readOnly: readOnly, projections: projections, stateTables: stateTables))
}

/// The environment a store in this process has open (the registry returns the same one when
/// asked with the same settings).
func sharedEnvironment(_ path: String) throws -> Environment {
    try Environment.open(path: path, configuration: .init(maxDatabases: 256, maxReaders: 1024))
}

/// Counts events per tenant in `counts` and the last position per tenant in `last`.
struct TenantCounts: Projection {
    var version = 1
    let name = "tenant_counts"
    var tableNames = ["counts", "last"]

    func apply(_ event: ProjectionEvent, to tables: any KeyValueWriter) throws {
        // The header fields the store reads must agree with the decoded envelope.
        let envelope = try event.decoded().envelope
        guard envelope.tenant == event.tenant, envelope.type == event.type, envelope.recordedAt == (try event.recordedAt()) else {
            throw EventLogError(.projectionFailed, "header of \(event.position) disagrees with its envelope")
        }
        let key = Array(event.tenant.utf8)
        let n = try tables.withValue(table("counts"), key) { try UInt64BE.decode($0) } ?? 0
        try tables.put(table("counts"), key, UInt64BE.bytes(n + 1))
        try tables.put(table("last"), key, UInt64BE.bytes(event.position))
    }
}

/// Every entry of a table, by key.
func dump(_ store: LMDBEventStore, _ table: StoreTable) throws -> [[UInt8]: [UInt8]] {
    try store.read { r in
        var out: [[UInt8]: [UInt8]] = [:]
        try r.scan(table, prefix: []) { k, v in
            out[Array(k)] = Array(v)
            return true
        }
        return out
    }
}

/// Every raw event, read in chunks.
func allRawEvents(_ store: LMDBEventStore, chunk: Int = 500) throws -> [RawEvent] {
    var out: [RawEvent] = []
    try store.forEachRawEvent(chunk: chunk) { out.append($0); return true }
    return out
}

/// Recomputes the chain with swift-crypto (``IndependentChain``), independently of
/// `ChainHash`, and returns the head hash; records an issue at the first gap or mismatch.
@discardableResult
func verifyChain(_ events: [RawEvent], format: Int = 2, sourceLocation: SourceLocation = #_sourceLocation) -> [UInt8] {
    switch IndependentChain.recompute(events, format: format) {
    case .success(let head): return head
    case .failure(let problem):
        Issue.record("\(problem)", sourceLocation: sourceLocation)
        return problem.computed
    }
}

/// A snapshot of a path for "nothing changed" checks: each entry's name, kind and bytes
/// (lock.mdb contents are LMDB's runtime lock table and excluded).
func snapshot(_ path: String) -> [String: String] {
    let fm = FileManager.default
    func digest(_ p: String) -> String {
        let d = Array((try? Data(contentsOf: URL(fileURLWithPath: p))) ?? Data())
        return "\(d.count) bytes, sha256 " + Hex.encode(Array(SHA256.hash(data: d)))
    }
    var isDir: ObjCBool = false
    guard fm.fileExists(atPath: path, isDirectory: &isDir) else { return [:] }
    guard isDir.boolValue else { return ["<file>": digest(path)] }
    var out: [String: String] = ["<dir>": ""]
    for name in (try? fm.contentsOfDirectory(atPath: path)) ?? [] {
        out[name] = name == "lock.mdb" ? "" : digest(path + "/" + name)
    }
    return out
}

func expectCode(_ code: EventLogError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected \(code.rawValue), nothing was thrown", sourceLocation: sourceLocation)
    } catch let e as EventLogError {
        #expect(e.code == code, "\(e)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected EventLogError \(code.rawValue), got \(error)", sourceLocation: sourceLocation)
    }
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

/// Waits (briefly) until no one holds the environment of `path`, so a reopen really reopens.
func waitUntilClosed(_ path: String) {
    // Environments are released with their last store; jobs on the writer thread may hold one
    // for a moment after an append returned.
    usleep(20_000)
}

// MARK: Child processes

/// The directory of the running test bundle, where SwiftPM also puts the executables.
func buildProductsDirectory() -> URL {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: exe).deletingLastPathComponent()
}

func testkitPath() throws -> String {
    if let p = ProcessInfo.processInfo.environment["ATLAS_TESTKIT"] { return p }
    let p = buildProductsDirectory().appendingPathComponent("atlas-testkit").path
    guard FileManager.default.isExecutableFile(atPath: p) else {
        throw TestSupportError("atlas-testkit not found at \(p); build it (swift build --build-tests) or set ATLAS_TESTKIT")
    }
    return p
}

struct TestSupportError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

struct ProcessOutput {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Starts `executable` with `arguments`; stdout and stderr are pipes.
func start(_ executable: String, _ arguments: [String]) throws -> (Process, Pipe, Pipe) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    try p.run()
    return (p, out, err)
}

/// Runs `executable` to completion (off the cooperative pool).
func run(_ executable: String, _ arguments: [String]) async throws -> ProcessOutput {
    let (p, _, _) = try start(executable, arguments)
    let r = await ChildOutput.collect(p)
    return ProcessOutput(status: r.status, stdout: String(decoding: r.stdout, as: UTF8.self), stderr: String(decoding: r.stderr, as: UTF8.self))
}

final class UnsafeTransfer<T>: @unchecked Sendable {
    var value: T
    init(_ v: T) { value = v }
}

/// Reads stdout of a child line by line (blocking).
final class LineReader {
    let fd: Int32
    var buffer: [UInt8] = []
    init(_ pipe: Pipe) { fd = pipe.fileHandleForReading.fileDescriptor }

    /// The next line, or nil at end of file.
    func next() -> String? {
        while true {
            if let nl = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
            if n <= 0 { return nil }
            buffer += chunk[..<n]
        }
    }
}
