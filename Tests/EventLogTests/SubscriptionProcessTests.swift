import EventLog
import Foundation
import Testing

/// Subscriptions across real processes: `atlas-testkit` writers and followers, and the Python
/// follower (Tools/python/follow.py).
@Suite(.serialized, .timeLimit(.minutes(5))) struct SubscriptionProcessTests {
    /// `p N` lines of a follower, as positions.
    static func positions(_ child: SubKit.Child) -> [UInt64] {
        child.lines.compactMap { $0.hasPrefix("p ") ? UInt64($0.dropFirst(2)) : nil }
    }

    @Test func twoFollowersReceiveEveryEventWhileAWriterAppends_oneKilledAndResumed() async throws {
        let path = SubKit.path()
        let total: UInt64 = 100_000
        let store = try SubKit.open(path)
        let kit = try SubKit.testkit()

        let writer = try SubKit.Child(kit, ["sub-append", "--store", path, "--total", "\(total)", "--burst", "2000",
                                            "--batch", "500", "--pause-ms", "20"])
        let a = try SubKit.Child(kit, ["sub-follow", "--store", path, "--consumer", "alpha", "--until", "\(total)"])
        let b = try SubKit.Child(kit, ["sub-follow", "--store", path, "--consumer", "beta", "--until", "\(total)"])

        // Kill alpha mid-stream.
        #expect(a.waitFor(seconds: 60) { $0.lineCount >= 30_001 }, "alpha: \(a.stderr)")
        a.kill(SIGKILL)
        a.wait()
        let firstRun = Self.positions(a)
        #expect(a.lines.first?.hasPrefix("start 0 inotify") == true, "\(a.lines.prefix(1))")
        #expect(firstRun == Array(1...UInt64(firstRun.count)), "alpha's first run is contiguous from 1")
        let lastPrinted = firstRun.last ?? 0
        let checkpoint = try store.consumerCheckpoint("alpha")?.acknowledged ?? 0
        #expect(checkpoint <= lastPrinted, "acknowledged \(checkpoint) beyond delivered \(lastPrinted)")

        // Restart under the same name: it resumes right after its checkpoint.
        let a2 = try SubKit.Child(kit, ["sub-follow", "--store", path, "--consumer", "alpha", "--until", "\(total)"])
        #expect(writer.wait() == 0, "writer: \(writer.stderr)")
        #expect(writer.lines == ["ok \(total)"])
        #expect(a2.wait() == 0, "alpha (2): \(a2.stderr) \(a2.lines.suffix(3))")
        #expect(b.wait() == 0, "beta: \(b.stderr) \(b.lines.suffix(3))")

        let secondRun = Self.positions(a2)
        #expect(a2.lines.first == "start \(checkpoint) inotify")
        #expect(secondRun.first == checkpoint + 1)
        #expect(secondRun == Array((checkpoint + 1)...total), "alpha's second run is contiguous to the end")
        // No gap between the runs: the second starts at or before the first run's end + 1.
        #expect(checkpoint + 1 <= lastPrinted + 1)
        let redelivered = lastPrinted - checkpoint
        let head = try store.head()
        #expect(a2.lines.last == "done \(total - checkpoint) \(total) \(head.chainHash.hex)")

        // Beta saw every event exactly once, in order, with the chain verified.
        #expect(Self.positions(b) == Array(1...total))
        #expect(b.lines.last == "done \(total) \(total) \(head.chainHash.hex)")

        #expect(try store.consumerCheckpoint("alpha")?.acknowledged == total)
        #expect(try store.consumerCheckpoint("beta")?.acknowledged == total)
        print("alpha killed after \(lastPrinted) delivered, checkpoint \(checkpoint), \(redelivered) redelivered")
    }

    @Test func idleSubscriberWakesForEachCommitOfAnotherProcess() async throws {
        let path = SubKit.path()
        let store = try SubKit.open(path)
        let sub = try store.subscribe()
        #expect(sub.wakeMode == "inotify")
        let kit = try SubKit.testkit()
        // Ten single-event commits 150 ms apart: each must arrive promptly, not at the 10 s
        // safety rescan.
        let reader = Task { () -> [Double] in
            var lags: [Double] = []
            var last = Date()
            for try await _ in sub {
                lags.append(Date().timeIntervalSince(last))
                last = Date()
                if lags.count == 10 { break }
            }
            return lags
        }
        let child = try SubKit.Child(kit, ["sub-append", "--store", path, "--total", "10", "--burst", "1", "--batch", "1",
                                           "--pause-ms", "150"])
        #expect(child.wait() == 0, "\(child.stderr)")
        let gaps = try await SubKit.collectWithin(seconds: 5) { try await reader.value }
        #expect(gaps.count == 10)
        #expect(gaps.dropFirst().allSatisfy { $0 < 1.0 }, "\(gaps)")
        #expect(sub.statistics.eventsDelivered == 10)
    }

    @Test func subscriberKeepsWorkingWhileAnotherProcessGrowsTheMap() async throws {
        let path = SubKit.path()
        // This process opens with a 1 MiB map; the child grows the file well beyond it.
        let store = try SubKit.open(path, mapSize: 1 << 20)
        try await store.append([SubKit.event()])
        let sub = try store.subscribe(after: 1)
        let kit = try SubKit.testkit()
        let total = 20_000
        // Well under the watcher's 10 s safety rescan: every commit must wake the subscriber.
        let reader = Task { try await SubKit.collect(sub, count: total, seconds: 8) }
        let child = try SubKit.Child(kit, ["sub-append", "--store", path, "--total", "\(total)", "--burst", "1000",
                                           "--batch", "500", "--map-size", "\(1 << 20)", "--relaxed"])
        #expect(child.wait() == 0, "\(child.stderr)")
        let events = try await reader.value
        #expect(events.map(\.position) == Array(2...UInt64(total + 1)))
        #expect(events.last?.chainHash == (try store.head().chainHash))
        #expect(store.sizes().mapSize > 1 << 20, "the map grew")
        // And this process can still write after the other grew the map.
        #expect(try await store.append([SubKit.event()]).positions == [UInt64(total + 2)])
    }

    @Test func pythonFollowerVerifiesTheChainWhileSwiftAppends() async throws {
        let python = try SubKit.pythonWithLMDB()
        let script = SubKit.repositoryRoot.appendingPathComponent("Tools/python/follow.py").path
        let path = SubKit.path()
        let checkpointFile = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("follow.json").path
        let total = 20_000
        do { _ = try SubKit.open(path, mapSize: 1 << 20) }
        let kit = try SubKit.testkit()
        let writer = try SubKit.Child(kit, ["sub-append", "--store", path, "--total", "\(total)", "--burst", "1000",
                                            "--batch", "250", "--pause-ms", "10", "--map-size", "\(1 << 20)"])
        // First run stops half-way; the second resumes from its own checkpoint file.
        let half = total / 2
        let first = try SubKit.Child(python, [script, path, "--checkpoint", checkpointFile, "--until", "\(half)",
                                              "--interval", "0.05"])
        #expect(first.wait() == 0, "\(first.stderr)")
        let second = try SubKit.Child(python, [script, path, "--checkpoint", checkpointFile, "--until", "\(total)",
                                               "--interval", "0.05"])
        #expect(writer.wait() == 0, "\(writer.stderr)")
        #expect(second.wait() == 0, "\(second.stderr)")

        let lines = first.lines + second.lines
        #expect(lines.count == total)
        let store = try SubKit.open(path)
        let raw = try store.rawEvents(from: 1, limit: total)
        for (i, line) in lines.enumerated() where i % 997 == 0 || i == total - 1 {
            let e = raw[i]
            let expected = #"{"position":\#(e.position),"chain":"\#(e.chainHash.hex)","envelope":"# + String(decoding: e.json, as: UTF8.self) + "}"
            #expect(line == expected)
        }
        let head = try store.head()
        #expect(second.stderr.contains("done \(total - half) \(total) \(head.chainHash.hex)"), "\(second.stderr)")
        // The follower never wrote to the store: no consumers were recorded.
        #expect(try store.consumers().isEmpty)
    }
}
