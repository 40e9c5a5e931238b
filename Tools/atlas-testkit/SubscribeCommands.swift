// Subcommands for subscription tests: a bursty appender and a follower with a named consumer.
import CanonicalJSON
import EventLog
import Foundation

enum SubscribeCommands {
    static let all: [String: (usage: String, run: @Sendable ([String]) async throws -> Int32)] = [
        "sub-append": (appendUsage, append),
        "sub-follow": (followUsage, follow),
    ]

    /// `--name value` pairs and bare `--flags`.
    struct Options {
        var values: [String: String] = [:]
        var flags: Set<String> = []

        init(_ args: [String]) throws {
            var i = 0
            while i < args.count {
                let a = args[i]
                guard a.hasPrefix("--") else { throw SubscribeCommandError("unexpected argument \(a)") }
                let name = String(a.dropFirst(2))
                if i + 1 < args.count, !args[i + 1].hasPrefix("--") {
                    values[name] = args[i + 1]
                    i += 2
                } else {
                    flags.insert(name)
                    i += 1
                }
            }
        }

        func string(_ name: String) throws -> String {
            guard let v = values[name] else { throw SubscribeCommandError("--\(name) is required") }
            return v
        }

        func int(_ name: String, _ fallback: Int) throws -> Int {
            guard let v = values[name] else { return fallback }
            guard let n = Int(v) else { throw SubscribeCommandError("--\(name) must be an integer") }
            return n
        }
    }

    struct SubscribeCommandError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    static func line(_ text: String) {
        var bytes = Array((text + "\n").utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress! + off, $0.count - off) }
            if n <= 0 { if errno == EINTR { continue }; exit(3) }
            off += n
        }
    }

    // MARK: sub-append

    static let appendUsage =
        "sub-append --store PATH --total N [--burst N] [--batch N] [--pause-ms N] [--tenant T] [--map-size BYTES] [--relaxed] [--create]"

    /// Appends `--total` events (data `{"n": i}`, types alternating `sub.even` / `sub.odd`) in
    /// bursts of `--burst` events, written `--batch` per append, pausing `--pause-ms` between
    /// bursts. Prints `ok <head>`.
    static func append(_ args: [String]) async throws -> Int32 {
        let o = try Options(args)
        let path = try o.string("store")
        let total = try o.int("total", 1000), burst = try o.int("burst", 1000), batch = try o.int("batch", 250)
        let pause = try o.int("pause-ms", 0)
        let tenant = o.values["tenant"] ?? "sub"
        let store = try LMDBEventStore.open(path: path, options: .init(
            create: o.flags.contains("create"), durability: o.flags.contains("relaxed") ? .relaxed : .durable,
            initialMapSize: try o.int("map-size", 64 << 20)))
        var n = 0
        while n < total {
            var inBurst = 0
            while inBurst < burst, n < total {
                let k = min(batch, burst - inBurst, total - n)
                let events = (0..<k).map { i in
                    EventEnvelope(type: (n + i) % 2 == 0 ? "sub.even" : "sub.odd", tenant: tenant,
                                  data: ["n": .number(Double(n + i)), "pad": .string(String(repeating: "x", count: 40))])
                }
                try await store.append(events)
                n += k
                inBurst += k
            }
            if pause > 0 { try await Task.sleep(for: .milliseconds(pause)) }
        }
        line("ok \(try store.head().position)")
        return 0
    }

    // MARK: sub-follow

    static let followUsage =
        "sub-follow --store PATH [--consumer NAME] [--after N] --until N [--flush-ms N] [--lease-ms N] [--quiet]"

    /// Follows the log (as `--consumer` when given), checking that positions are contiguous and
    /// the chain links; prints `p <position>` per event (written before it is acknowledged),
    /// stops after `--until`, flushes the checkpoint and prints `done <count> <last> <chain>`.
    /// Exits 4 on a gap or chain break.
    static func follow(_ args: [String]) async throws -> Int32 {
        let o = try Options(args)
        let store = try LMDBEventStore.open(path: try o.string("store"))
        let until = UInt64(try o.int("until", 0))
        let quiet = o.flags.contains("quiet")
        let options = SubscriptionOptions(flushInterval: .milliseconds(try o.int("flush-ms", 200)),
                                          leaseDuration: .milliseconds(try o.int("lease-ms", 15_000)))
        let sub: EventSubscription
        if let name = o.values["consumer"] {
            sub = try store.subscribe(consumer: name, startingAfter: UInt64(try o.int("after", 0)), options: options)
        } else {
            sub = try store.subscribe(after: UInt64(try o.int("after", 0)), options: options)
        }
        var previous = sub.startPosition
        var chain = ChainHash.genesis
        if previous > 0, let e = try store.rawEvents(from: previous, limit: 1).first { chain = e.chainHash }
        line("start \(previous) \(sub.wakeMode)")
        var count = 0
        if previous < until {
            for try await e in sub {
                guard e.position == previous + 1 else {
                    line("gap after \(previous): got \(e.position)")
                    return 4
                }
                let computed = e.json.withUnsafeBytes { ChainHash.next(after: chain, position: e.position, json: $0, format: store.formatVersion) }
                guard computed == e.chainHash else {
                    line("chain break at \(e.position)")
                    return 4
                }
                chain = computed
                previous = e.position
                count += 1
                if !quiet { line("p \(e.position)") }
                try sub.ack(e.position)
                if e.position >= until { break }
            }
        }
        try await sub.close()
        line("done \(count) \(previous) \(chain.hex)")
        return 0
    }
}
