import AtlasTesting
import CanonicalJSON
import EventLog
import Foundation
import Inventory
import ReplayKit
import Testing

/// Named consumers through real `atlas-replay tail` processes: one live process per consumer
/// (a second exits 2 naming the holder; a holder killed with SIGKILL is taken over at once), and
/// the filter the checkpoint records (another filter exits 2 naming both; `--reset` starts again).
@Suite(.serialized, .timeLimit(.minutes(3))) struct ConsumerProcessTests {
    typealias Lines = FollowStartTests.Lines

    /// Runs `atlas-replay ARGS` for at most `seconds` (then kills it): a tail that should have
    /// been refused but follows instead shows up as a timeout, not a hang.
    static func runBriefly(_ args: [String], seconds: Double = 30) async throws -> ProcessResult {
        let p = Process()
        p.executableURL = productsDirectory().appendingPathComponent("atlas-replay")
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let timedOut = p.isRunning
        if timedOut { kill(p.processIdentifier, SIGKILL) }
        return await withCheckedContinuation { done in
            DispatchQueue.global().async {
                let o = out.fileHandleForReading.readDataToEndOfFile()
                let e = err.fileHandleForReading.readDataToEndOfFile()
                p.waitUntilExit()
                done.resume(returning: ProcessResult(status: timedOut ? -1 : p.terminationStatus,
                                                     stdout: String(decoding: o, as: UTF8.self),
                                                     stderr: (timedOut ? "(still running after \(seconds) s) " : "") + String(decoding: e, as: UTF8.self)))
            }
        }
    }

    /// The `consumers --json` entry of `name`.
    static func listed(_ store: String, _ name: String) async throws -> JSONValue? {
        let r = try await runTool(["consumers", "--store", store, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let v = try JSONParser().parse(Array(r.stdout.utf8))
        return v["consumers"]?.arrayValue?.first { $0["name"]?.stringValue == name }
    }

    /// Positions of `tenant`'s events in the store at `path`.
    static func positions(of tenant: String, in path: String) throws -> [UInt64] {
        // The settings makeStore used: its environment may still be held a moment by its writer
        // thread, and one process opens a path with one set of settings.
        let store = try openStore(path)
        return try store.rawEvents(from: 1, limit: 10_000).filter { (try? $0.decode().envelope.tenant) == tenant }.map(\.position)
    }

    @Test func oneLiveTailPerConsumer_aKilledHolderIsTakenOverAtOnce() async throws {
        let dir = TempDir()
        try await makeStore(dir.store, runs: 4, items: 2)
        let contoso = try Self.positions(of: "contoso", in: dir.store)
        let (first, lines) = try FollowStartTests.start(["tail", "--store", dir.store, "--consumer", "billing", "--tenant", "contoso", "--from", "1"])
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        try await FollowStartTests.wait(seconds: 30) { lines.positions == contoso }
        #expect(lines.positions == contoso)

        // A second tail of the same consumer (with another filter, as in the reported case) is refused.
        let second = try await Self.runBriefly(["tail", "--store", dir.store, "--consumer", "billing", "--tenant", "fabrikam"])
        #expect(second.status == 2, "\(second.stderr)")
        #expect(second.stderr.contains("consumer billing is held by pid \(first.processIdentifier) on \(ConsumerLease.localHost) since "),
                "\(second.stderr)")
        #expect(second.stdout.isEmpty)
        let held = try #require(try await Self.listed(dir.store, "billing"))
        #expect(held["holder"]?["pid"]?.intValue == Int(first.processIdentifier))
        #expect(held["holder"]?["host"]?.stringValue == ConsumerLease.localHost)
        #expect(held["filter"] == .object(["tenant": .string("contoso")]))
        let table = try await runTool(["consumers", "--store", dir.store])
        #expect(table.stdout.contains("tenant=contoso") && table.stdout.contains("\(first.processIdentifier)@\(ConsumerLease.localHost)"),
                "\(table.stdout)")

        // SIGKILL: no close, the lease stays in the store, but its holder is dead on this host.
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let thirdErr = dir.path + "/third.stderr"
        let (third, thirdLines) = try FollowStartTests.start(["tail", "--store", dir.store, "--consumer", "billing", "--tenant", "contoso"],
                                                             stderrPath: thirdErr)
        defer { if third.isRunning { kill(third.processIdentifier, SIGKILL) } }
        var gen = SyntheticInventory(tenants: ["contoso"], itemsPerType: 2)
        let newHead = try await FollowStartTests.appendRun(dir.store, &gen)
        try await FollowStartTests.wait(seconds: 30) { thirdLines.positions.contains(newHead) || !third.isRunning }
        #expect(third.isRunning, "the third tail took the consumer over")
        #expect(thirdLines.positions.contains(newHead),
                "and follows it: \(thirdLines.positions.suffix(3)); stderr: \((try? String(contentsOfFile: thirdErr, encoding: .utf8)) ?? "")")
        #expect(try await Self.listed(dir.store, "billing")?["holder"]?["pid"]?.intValue == Int(third.processIdentifier))
        #expect(await FollowStartTests.stop(third) == 0)
        #expect(try await Self.listed(dir.store, "billing")?["holder"] == .null, "a tail that exits releases the consumer")
    }

    @Test func anotherFilterIsRefusedNamingBoth_resetStartsAgain() async throws {
        let dir = TempDir()
        try await makeStore(dir.store, runs: 4, items: 2)
        let (first, lines) = try FollowStartTests.start(["tail", "--store", dir.store, "--consumer", "billing", "--tenant", "contoso", "--from", "1"])
        let contoso = try Self.positions(of: "contoso", in: dir.store)
        try await FollowStartTests.wait(seconds: 30) { lines.positions == contoso }
        #expect(await FollowStartTests.stop(first) == 0)

        let other = try await Self.runBriefly(["tail", "--store", dir.store, "--consumer", "billing", "--tenant", "fabrikam"])
        #expect(other.status == 2, "\(other.stderr)")
        #expect(other.stderr.contains("consumer billing follows tenant=contoso, not tenant=fabrikam"), "\(other.stderr)")
        #expect(other.stderr.contains("--reset"), "\(other.stderr)")
        let all = try await Self.runBriefly(["tail", "--store", dir.store, "--consumer", "billing"])
        #expect(all.status == 2 && all.stderr.contains("not all events"), "\(all.stderr)")
        #expect(try await Self.listed(dir.store, "billing")?["filter"] == .object(["tenant": .string("contoso")]))

        let fabrikam = try Self.positions(of: "fabrikam", in: dir.store)
        let (reset, resetLines) = try FollowStartTests.start(["tail", "--store", dir.store, "--consumer", "billing", "--tenant", "fabrikam",
                                                              "--reset", "--from", "1"])
        try await FollowStartTests.wait(seconds: 30) { resetLines.positions == fabrikam }
        #expect(resetLines.positions == fabrikam)
        #expect(await FollowStartTests.stop(reset) == 0)
        let entry = try #require(try await Self.listed(dir.store, "billing"))
        #expect(entry["filter"] == .object(["tenant": .string("fabrikam")]))
        #expect(entry["acknowledged"]?.intValue ?? 0 >= Int(fabrikam.last ?? 0))

        let noConsumer = try await runTool(["tail", "--store", dir.store, "--reset"])
        #expect(noConsumer.status == 2 && noConsumer.stderr.contains("--reset needs --consumer"), "\(noConsumer.stderr)")
    }
}
