import EventLog
import Foundation
import Testing

/// Helpers of the subscription tests (namespaced to stay clear of the other test files).
enum SubKit {
    /// A fresh store path under a fresh temporary directory.
    static func path(_ name: String = "store") -> String {
        var template = Array((NSTemporaryDirectory() + "/subscriptiontests-XXXXXX").utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        return dir + "/" + name
    }

    static func event(tenant: String = "acme", type: String = "test.happened", n: Int = 0) -> EventEnvelope {
        EventEnvelope(type: type, tenant: tenant, data: ["n": .number(Double(n))])
    }

    static func open(_ path: String, mapSize: Int = 64 << 20) throws -> LMDBEventStore {
        try LMDBEventStore.open(path: path, options: .init(create: true, durability: .relaxed, initialMapSize: mapSize))
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    /// The `atlas-testkit` executable next to the test bundle (or `$ATLAS_TESTKIT`).
    static func testkit() throws -> String {
        if let p = ProcessInfo.processInfo.environment["ATLAS_TESTKIT"] { return p }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let p = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("atlas-testkit").path
        guard FileManager.default.isExecutableFile(atPath: p) else {
            throw Failure("atlas-testkit not found at \(p); build it (swift build --build-tests) or set ATLAS_TESTKIT")
        }
        return p
    }

    /// A Python 3 that can `import lmdb`: `/usr/bin/python3` first (pyenv's lacks it), then
    /// every `python3` on PATH.
    static func pythonWithLMDB() throws -> String {
        var candidates = ["/usr/bin/python3"]
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            candidates.append("\(dir)/python3")
        }
        for c in candidates where FileManager.default.isExecutableFile(atPath: c) {
            let child = try Child(c, ["-c", "import lmdb"])
            if child.wait() == 0 { return c }
        }
        throw Failure("no python3 that can `import lmdb` (tried \(candidates.joined(separator: ", "))); install python3-lmdb")
    }

    /// The repository root (this file is Tests/EventLogTests/…).
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// A child process whose stdout lines and stderr are collected by background threads.
    final class Child: @unchecked Sendable {
        let process: Process
        private let lock = NSLock()
        private var collected: [String] = []
        private var errText = ""
        private let done = DispatchGroup()

        init(_ executable: String, _ arguments: [String]) throws {
            let (process, out, err) = try start(executable, arguments)
            self.process = process
            let outFD = out.fileHandleForReading, errFD = err.fileHandleForReading
            done.enter()
            Thread.detachNewThread { [self] in
                var pending: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 1 << 16)
                while true {
                    let n = chunk.withUnsafeMutableBytes { read(outFD.fileDescriptor, $0.baseAddress, $0.count) }
                    if n < 0, errno == EINTR { continue }
                    if n <= 0 { break }
                    pending += chunk[..<n]
                    var lines: [String] = []
                    var start = 0
                    for i in 0..<pending.count where pending[i] == 10 {
                        lines.append(String(decoding: pending[start..<i], as: UTF8.self))
                        start = i + 1
                    }
                    pending.removeFirst(start)
                    lock.lock()
                    collected += lines
                    lock.unlock()
                }
                done.leave()
            }
            done.enter()
            Thread.detachNewThread { [self] in
                let d = errFD.readDataToEndOfFile()
                lock.lock()
                errText = String(decoding: d, as: UTF8.self)
                lock.unlock()
                done.leave()
            }
        }

        var lines: [String] {
            lock.lock()
            defer { lock.unlock() }
            return collected
        }

        var lineCount: Int {
            lock.lock()
            defer { lock.unlock() }
            return collected.count
        }

        var stderr: String {
            lock.lock()
            defer { lock.unlock() }
            return errText
        }

        /// Waits for exit and for the output to be read; returns the exit status.
        @discardableResult
        func wait() -> Int32 {
            process.waitUntilExit()
            done.wait()
            return process.terminationStatus
        }

        func kill(_ sig: Int32 = SIGKILL) { Foundation.kill(process.processIdentifier, sig) }

        /// Polls until `condition` holds or `seconds` pass.
        func waitFor(seconds: Double, _ condition: (Child) -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if condition(self) { return true }
                if !process.isRunning, !condition(self) { done.wait(); return condition(self) }
                usleep(5_000)
            }
            return condition(self)
        }
    }

    /// Runs `body`, failing after `seconds`.
    static func collectWithin<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            guard let value = first else { throw Failure("timed out after \(seconds) s") }
            return value
        }
    }

    /// Collects events of `sequence` until `count` arrived (or `seconds` passed).
    static func collect(_ sub: EventSubscription, count: Int, seconds: Double = 90) async throws -> [RawEvent] {
        try await withThrowingTaskGroup(of: [RawEvent]?.self) { group in
            group.addTask {
                var out: [RawEvent] = []
                for try await e in sub {
                    out.append(e)
                    if out.count >= count { break }
                }
                return out
            }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            guard let events = first else { throw Failure("timed out waiting for \(count) events") }
            return events
        }
    }
}
