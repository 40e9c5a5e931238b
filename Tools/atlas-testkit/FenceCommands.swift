// Subcommands for the tests of store sharing: a writer that holds its write transaction open,
// and a process that leaves a run lease in the store and stays alive.
import CanonicalJSON
import EventLog
import Foundation
import Inventory
import Sync

enum FenceCommands {
    static let holdWriteUsage =
        "hold-write --store DIR --tenant T  → appends one event, printing `holding` inside the write transaction and committing when a line (or end of input) arrives on stdin; then prints `committed <position>`"
    static let leasePutUsage =
        "lease-put --store DIR --tenant T --selection JSON --run-id R --seconds S [--legacy]  → stores a run lease of this process for T + selection (the record of an older build with --legacy: host and PID only), closes the store, prints `leased`, and stays alive until end of input"

    /// The store as `atlas sync` opens it.
    static func openStore(_ path: String) throws -> LMDBEventStore {
        try LMDBEventStore.open(path: path, options: .init(create: true, projections: InventoryProjections.all,
                                                           stateTables: SyncRunner.stateTables))
    }

    static func holdWrite(_ argv: [String]) async throws -> Int32 {
        let args = try Arguments(argv, options: ["store", "tenant"])
        let store = try openStore(try args.string("store"))
        let r = try await store.append(LogCommands.batch(tenant: try args.string("tenant"), batch: 0, size: 1)) { _ in
            emit("holding")
            _ = readLine()
        }
        emit("committed \(r.head.position)")
        return 0
    }

    static func leasePut(_ argv: [String]) async throws -> Int32 {
        let args = try Arguments(argv, options: ["store", "tenant", "selection", "run-id", "seconds"], flags: ["legacy"])
        let tenant = try TenantID(try args.string("tenant")).value
        let hash = try SelectionParser.parse(try args.string("selection")).selection.hash
        let runID = try args.string("run-id")
        let now = Timestamp.now().millisecondsSinceEpoch
        var lease: [String: JSONValue] = [
            "run_id": .string(runID), "tenant": .string(tenant), "selection_hash": .string(hash), "correlation_id": .string(""),
            "host": .string(ProcessInfo.processInfo.hostName), "process_token": .string(EventID.generate().description),
            "heartbeat_at": .number(Double(now)), "expires_at": .number(Double(now + Int64(try args.int("seconds")) * 1000)),
        ]
        if args.flag("legacy") {
            lease["pid"] = .number(Double(getpid()))
        } else {
            lease.merge(ProcessIdentity.current.jsonMembers) { a, _ in a }
        }
        let value = try CanonicalJSON.serialize(.object(lease))
        do {
            let store = try openStore(try args.string("store"))
            try await store.updateState { tables in
                let table = StoreTable.state("run_leases")
                try tables.put(table, [UInt8(ascii: "L")] + Array(tenant.utf8) + [0] + Array(hash.utf8), value)
                try tables.put(table, [UInt8(ascii: "S")] + Array(tenant.utf8) + [0] + Array(runID.utf8), value)
            }
        }
        // The store is closed here (its last reference is gone): another process may open it.
        emit("leased")
        while readLine() != nil {}
        return 0
    }
}
