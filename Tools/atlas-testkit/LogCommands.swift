import CanonicalJSON
import EventLog
import Foundation
import Inventory
import Sync

/// Subcommands that write to and read the event log from a separate process.
enum LogCommands {
    static let appendUsage =
        "append --store DIR --tenant T --batches N --batch-size B [--create] [--inventory] [--map-size BYTES]  → prints `ok <head>` (--inventory: open with the inventory projections, as `atlas` does)"
    static let appendLoopUsage =
        "append-loop --store DIR --tenant T --batch-size B [--inventory] [--map-size BYTES]  → prints `committed <last position>` after each commit, until an append fails"
    static let headUsage = "head --store DIR  → prints `head <position> <chain hex>`"

    /// Appends `--batches` batches of `--batch-size` events for `--tenant`.
    static func append(_ argv: [String]) async throws -> Int32 {
        let args = try Arguments(argv, options: ["store", "tenant", "batches", "batch-size", "map-size"], flags: ["create", "inventory"])
        let store = try LMDBEventStore.open(path: try args.string("store"), options: options(args, create: args.flag("create")))
        let tenant = try args.string("tenant")
        let batches = try args.int("batches")
        let size = try args.int("batch-size")
        var head = try store.head()
        for b in 0..<batches {
            let r = try await store.append(batch(tenant: tenant, batch: b, size: size))
            head = r.head
        }
        emit("ok \(head.position)")
        return 0
    }

    /// Appends batches of `--batch-size` events until killed, printing the last position of
    /// each committed batch.
    static func appendLoop(_ argv: [String]) async throws -> Int32 {
        let args = try Arguments(argv, options: ["store", "tenant", "batch-size", "map-size"], flags: ["inventory"])
        let store = try LMDBEventStore.open(path: try args.string("store"), options: options(args, create: false))
        let tenant = try args.string("tenant")
        let size = try args.int("batch-size")
        var b = 0
        while true {
            let r = try await store.append(batch(tenant: tenant, batch: b, size: size))
            emit("committed \(r.positions.last ?? r.head.position)")
            b += 1
        }
    }

    /// Prints the head of the log.
    static func head(_ argv: [String]) async throws -> Int32 {
        let args = try Arguments(argv, options: ["store"])
        let store = try LMDBEventStore.open(path: try args.string("store"), options: .init(readOnly: true))
        let h = try store.head()
        emit("head \(h.position) \(h.chainHash.hex)")
        return 0
    }

    private static func options(_ args: Arguments, create: Bool) throws -> LMDBEventStore.Options {
        var o = LMDBEventStore.Options(create: create)
        if args.flag("inventory") {
            o.projections = InventoryProjections.all
            o.stateTables = SyncRunner.stateTables
        }
        let mapSize = try args.int("map-size", default: 0)
        if mapSize > 0 { o.initialMapSize = mapSize }
        return o
    }

    /// One batch of small events, numbered within the batch, tagged with this process's id.
    static func batch(tenant: String, batch: Int, size: Int) -> [EventEnvelope] {
        let pid = Int(getpid())
        return (0..<size).map { i in
            EventEnvelope(type: "testkit.appended", tenant: tenant, correlationID: "pid-\(pid)-batch-\(batch)",
                          data: ["pid": .number(Double(pid)), "batch": .number(Double(batch)), "index": .number(Double(i)),
                                 "pad": .string(String(repeating: "x", count: 64))])
        }
    }
}
