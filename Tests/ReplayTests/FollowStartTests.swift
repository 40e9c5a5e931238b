import AtlasTesting
import EventLog
import Foundation
import Inventory
import ReplayKit
import Testing

/// Where following starts, through real `atlas-replay` processes while this process appends:
/// `export --follow` without `--from` starts at position 1 (as its help says), `tail` with the
/// next event committed.
@Suite(.serialized) struct FollowStartTests {
    /// The lines a child process writes to stdout, collected on a Dispatch thread.
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var buffer = Data()

        init(_ pipe: Pipe) {
            let handle = pipe.fileHandleForReading
            DispatchQueue.global().async { [self] in
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { return }
                    lock.lock()
                    buffer += chunk
                    lock.unlock()
                }
            }
        }

        /// The positions of the complete lines so far.
        var positions: [UInt64] {
            lock.lock()
            defer { lock.unlock() }
            return String(decoding: buffer, as: UTF8.self).split(separator: "\n").compactMap { line in
                guard let r = line.range(of: #"{"position":"#), let end = line[r.upperBound...].firstIndex(of: ",") else { return nil }
                return UInt64(line[r.upperBound..<end])
            }
        }
    }

    /// Starts `atlas-replay args`; its standard error goes to the file `stderrPath` when given.
    static func start(_ args: [String], stderrPath: String? = nil) throws -> (Process, Lines) {
        let p = Process()
        p.executableURL = productsDirectory().appendingPathComponent("atlas-replay")
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        if let stderrPath {
            FileManager.default.createFile(atPath: stderrPath, contents: nil)
            p.standardError = FileHandle(forWritingAtPath: stderrPath)
        } else {
            p.standardError = FileHandle.nullDevice
        }
        let lines = Lines(out)
        try p.run()
        return (p, lines)
    }

    /// Waits until `done` holds or `seconds` pass, calling `step` between checks.
    static func wait(seconds: Double, until done: () -> Bool, step: () async throws -> Void = {}) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !done() && Date() < deadline {
            try await step()
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Appends one run of `tenant` to the store at `path`.
    static func appendRun(_ path: String, _ gen: inout SyntheticInventory) async throws -> UInt64 {
        let store = try openStore(path)
        return try await store.append(gen.nextRun(tenant: "contoso")).head.position
    }

    static func stop(_ p: Process) async -> Int32 {
        p.terminate()
        await withCheckedContinuation { done in DispatchQueue.global().async { p.waitUntilExit(); done.resume() } }
        return p.terminationStatus
    }

    @Test func exportFollowStartsAtPositionOneThenFollows() async throws {
        let dir = TempDir()
        let head = try await makeStore(dir.store, runs: 3, items: 3).position
        let (p, lines) = try Self.start(["export", "--follow", "--store", dir.store])
        try await Self.wait(seconds: 30) { lines.positions.count >= Int(head) }
        #expect(lines.positions == Array(1...head), "the whole log first")
        var gen = SyntheticInventory(tenants: ["contoso"], itemsPerType: 2)
        let newHead = try await Self.appendRun(dir.store, &gen)
        try await Self.wait(seconds: 30) { lines.positions.last == newHead }
        let status = await Self.stop(p)
        #expect(lines.positions == Array(1...newHead), "then each new event, once, in order")
        #expect(status == 0)
    }

    @Test func tailStartsWithTheNextEvent() async throws {
        let dir = TempDir()
        let head = try await makeStore(dir.store, runs: 3, items: 3).position
        let (p, lines) = try Self.start(["tail", "--store", dir.store])
        var gen = SyntheticInventory(tenants: ["contoso"], itemsPerType: 2)
        // Append until the follower (which may still be starting) prints something.
        try await Self.wait(seconds: 30, until: { !lines.positions.isEmpty }) { _ = try await Self.appendRun(dir.store, &gen) }
        let status = await Self.stop(p)
        let first = try #require(lines.positions.first, "tail printed nothing")
        #expect(first > head, "tail never prints what was in the log when it started")
        #expect(status == 0)
    }
}
