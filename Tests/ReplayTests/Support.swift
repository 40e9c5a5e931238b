import AtlasTesting
import CLMDB
import CanonicalJSON
import EventLog
import Foundation
import Inventory
import ReplayKit
import Testing

/// A temporary directory removed on deinit.
final class TempDir: @unchecked Sendable {
    let path: String
    init() {
        path = FileManager.default.temporaryDirectory.path + "/replay-test-\(getpid())-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    var store: String { path + "/store" }
}

func openStore(_ path: String, formatVersion: Int = LMDBEventStore.newestFormat) throws -> LMDBEventStore {
    try LMDBEventStore.open(path: path, options: .init(create: true, durability: .relaxed, projections: InventoryProjections.all,
                                                       formatVersion: formatVersion))
}

/// A store at `path` with `runs` runs over `tenants`; the store is closed on return.
@discardableResult
func makeStore(_ path: String, tenants: [String] = ["contoso", "fabrikam"], runs: Int = 6, items: Int = 20,
               formatVersion: Int = LMDBEventStore.newestFormat) async throws -> LogHead {
    let store = try openStore(path, formatVersion: formatVersion)
    var gen = SyntheticInventory(tenants: tenants, itemsPerType: items)
    var head = LogHead.empty
    for r in 0..<runs {
        let incomplete: Set<String> = r == runs - 1 ? ["settingsCatalogPolicy"] : []
        head = try await store.append(gen.nextRun(tenant: tenants[r % tenants.count], incompleteTypes: incomplete)).head
    }
    return head
}

func canonical(_ v: JSONValue) -> String { (try? CanonicalJSON.serializeToString(v)) ?? "?" }

/// Edits the raw `events` table through the LMDB C API (the store must not be open in this process).
func withRawEvents(_ path: String, _ body: (OpaquePointer, MDB_dbi) throws -> Void) throws {
    var env: OpaquePointer?
    #expect(mdb_env_create(&env) == 0)
    defer { mdb_env_close(env) }
    #expect(mdb_env_set_maxdbs(env, 256) == 0)
    #expect(mdb_env_set_mapsize(env, 1 << 30) == 0)
    #expect(mdb_env_open(env, path, 0, 0o600) == 0)
    var txn: OpaquePointer?
    #expect(mdb_txn_begin(env, nil, 0, &txn) == 0)
    var dbi: MDB_dbi = 0
    #expect(mdb_dbi_open(txn, "events", 0, &dbi) == 0)
    do { try body(txn!, dbi) } catch { mdb_txn_abort(txn); throw error }
    #expect(mdb_txn_commit(txn) == 0)
}

func positionKey(_ p: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: p >> (56 - 8 * UInt64($0))) } }

/// Flips one byte of the stored value (chain hash ‖ JSON) of the event at `position`.
func flipByte(_ path: String, position: UInt64, offset: Int) throws {
    try withRawEvents(path) { txn, dbi in
        var key = positionKey(position)
        try key.withUnsafeMutableBytes { k in
            var mk = MDB_val(mv_size: 8, mv_data: k.baseAddress)
            var mv = MDB_val()
            #expect(mdb_get(txn, dbi, &mk, &mv) == 0)
            var copy = Array(UnsafeRawBufferPointer(start: mv.mv_data, count: mv.mv_size))
            copy[offset] ^= 0x01
            try copy.withUnsafeMutableBytes { v in
                var nv = MDB_val(mv_size: v.count, mv_data: v.baseAddress)
                #expect(mdb_put(txn, dbi, &mk, &nv, 0) == 0)
            }
        }
    }
}

func deleteEvent(_ path: String, position: UInt64) throws {
    try withRawEvents(path) { txn, dbi in
        var key = positionKey(position)
        key.withUnsafeMutableBytes { k in
            var mk = MDB_val(mv_size: 8, mv_data: k.baseAddress)
            #expect(mdb_del(txn, dbi, &mk, nil) == 0)
        }
    }
}

/// The result of running a built executable.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// The directory holding the built products (beside the test bundle).
func productsDirectory() -> URL {
    let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var dir = exe.deletingLastPathComponent()
    for _ in 0..<4 {
        if FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("atlas-replay").path) { return dir }
        dir = dir.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/debug")
}

func runTool(_ args: [String], tool name: String = "atlas-replay", environment: [String: String] = [:],
             directory: String? = nil) async throws -> ProcessResult {
    try await runProgram(productsDirectory().appendingPathComponent(name), args, environment: environment, directory: directory)
}

/// Runs the program at `url` to completion, capturing its output (off the cooperative pool).
func runProgram(_ url: URL, _ args: [String], environment: [String: String] = [:], directory: String? = nil) async throws -> ProcessResult {
    let p = Process()
    p.executableURL = url
    if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    env["ATLAS_STORE"] = nil
    for (k, v) in environment { env[k] = v }
    p.environment = env
    p.standardOutput = Pipe()
    p.standardError = Pipe()
    try p.run()
    let r = await ChildOutput.collect(p)
    return ProcessResult(status: r.status, stdout: String(decoding: r.stdout, as: UTF8.self), stderr: String(decoding: r.stderr, as: UTF8.self))
}
