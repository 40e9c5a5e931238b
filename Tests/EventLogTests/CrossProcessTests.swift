import EventLog
import Foundation
import LMDB
import Testing

/// Tests with real child processes (`atlas-testkit`) writing to the same store.
@Suite(.serialized) struct CrossProcessTests {
    func decodedEvents(_ store: LMDBEventStore) throws -> [RecordedEvent] {
        try allRawEvents(store).map { try $0.decode() }
    }

    @Test func twoProcessesAppendConcurrently() async throws {
        let path = tempPath()
        let store = try openStore(path)
        let kit = try testkitPath()
        let batches = 40, size = 10
        // Two children and this process append at the same time.
        let children = ["alpha", "beta"].map { tenant in
            Task.detached {
                try await run(kit, ["append", "--store", path, "--tenant", tenant, "--batches", "\(batches)", "--batch-size", "\(size)"])
            }
        }
        for b in 0..<batches { _ = try await store.append((0..<size).map { makeEvent(tenant: "local", n: b * size + $0) }) }
        for child in children {
            let out = try await child.value
            #expect(out.status == 0, "child failed: \(out.stderr)")
            #expect(out.stdout.hasPrefix("ok "), "\(out.stdout)")
        }
        let total = 3 * batches * size
        #expect(try store.head().position == UInt64(total))
        let events = try decodedEvents(store)
        #expect(events.count == total)
        verifyChain(try allRawEvents(store))
        #expect(Set(events.map(\.envelope.id)).count == total)
        var perTenant: [String: Int] = [:]
        for e in events { perTenant[e.envelope.tenant, default: 0] += 1 }
        #expect(perTenant == ["alpha": batches * size, "beta": batches * size, "local": batches * size])
        // Every child batch is contiguous (one request is one unit in one transaction).
        var byCorrelation: [String: [UInt64]] = [:]
        for e in events where e.envelope.tenant != "local" { byCorrelation[e.envelope.correlationID!, default: []].append(e.position) }
        #expect(byCorrelation.count == 2 * batches)
        for (_, ps) in byCorrelation { #expect(ps == Array(ps[0]..<(ps[0] + UInt64(size)))) }
        #expect(try store.tenants() == ["alpha", "beta", "local"])
    }

    @Test func readerSeesAnotherProcessesCommitsAndMapGrowth() async throws {
        let path = tempPath()
        // This process opens with a 1 MiB map; the child grows the file well beyond it.
        let store = try LMDBEventStore.open(path: path, options: .init(create: true, initialMapSize: 1 << 20))
        _ = try await store.append([makeEvent(tenant: "local")])
        let kit = try testkitPath()
        let out = try await run(kit, ["append", "--store", path, "--tenant", "other", "--batches", "30", "--batch-size", "200",
                                "--map-size", "\(1 << 20)"])
        #expect(out.status == 0, "child failed: \(out.stderr)")
        #expect(out.stdout == "ok 6001\n")
        #expect(try store.head().position == 6001)
        #expect(try store.tenantPositions("other", after: 0, limit: .max).count == 6000)
        let raw = try allRawEvents(store, chunk: 1000)
        #expect(raw.count == 6001)
        verifyChain(raw)
        // And this process can still write after the other grew the map.
        let r = try await store.append([makeEvent(tenant: "local")])
        #expect(r.positions == [6002])
        let head = try await run(kit, ["head", "--store", path])
        #expect(head.stdout == "head 6002 \(try store.head().chainHash.hex)\n", "\(head.stderr)")
    }

    @Test func killNineLeavesOnlyWholeBatches() async throws {
        let path = tempPath()
        do { _ = try openStore(path) }
        waitUntilClosed(path)
        let kit = try testkitPath()
        let size = 7
        var lastAcknowledged: UInt64 = 0
        for round in 0..<6 {
            let (child, out, err) = try start(kit, ["append-loop", "--store", path, "--tenant", "k", "--batch-size", "\(size)"])
            let lines = LineReader(out)
            let wanted = Int.random(in: 1...25)
            var seen = 0
            while seen < wanted, let line = lines.next() {
                guard line.hasPrefix("committed ") else {
                    Issue.record("unexpected output \(line)")
                    break
                }
                lastAcknowledged = UInt64(line.dropFirst("committed ".count))!
                seen += 1
            }
            // Land the kill at a random point, usually in the middle of a batch.
            usleep(UInt32.random(in: 0...3000))
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            #expect(child.terminationReason == .uncaughtSignal, "round \(round): \(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
            // Anything printed after the last line we read was committed too.
            while let line = lines.next(), line.hasPrefix("committed ") {
                lastAcknowledged = UInt64(line.dropFirst("committed ".count))!
            }

            let store = try openStore(path, create: false)
            let head = try store.head()
            #expect(lastAcknowledged <= head.position, "round \(round): acknowledged \(lastAcknowledged) but head is \(head.position)")
            let positions = try store.tenantPositions("k", after: 0, limit: .max)
            #expect(positions.count % size == 0, "round \(round): \(positions.count) events is not whole batches of \(size)")
            #expect(positions == Array(1...head.position))
            let raw = try allRawEvents(store, chunk: 1000)
            #expect(raw.count == Int(head.position))
            verifyChain(raw)
            // Batches are whole: each correlation id (one batch) has exactly `size` events.
            var perBatch: [String: Int] = [:]
            for e in raw { perBatch[try e.decode().envelope.correlationID!, default: 0] += 1 }
            #expect(perBatch.values.allSatisfy { $0 == size })
        }
        #expect(lastAcknowledged > 0)
    }
}

@Suite struct PythonReaderTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("python/verify_store.py").path

    /// An interpreter that can `import lmdb`: Debian's first (pyenv's python3 lacks it).
    static func interpreter() async throws -> String {
        var candidates = ["/usr/bin/python3"]
        if let env = ProcessInfo.processInfo.environment["ATLAS_PYTHON"] { candidates.insert(env, at: 0) }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            candidates.append("\(dir)/python3")
        }
        var tried: [String] = []
        for c in candidates where FileManager.default.isExecutableFile(atPath: c) && !tried.contains(c) {
            tried.append(c)
            if let out = try? await run(c, ["-c", "import lmdb"]), out.status == 0 { return c }
        }
        throw TestSupportError("no python3 with the `lmdb` module among \(tried); install python3-lmdb (apt-get install python3-lmdb) or set ATLAS_PYTHON")
    }

    struct Summary: Decodable, Equatable {
        var events: Int
        var head: String
        var tenants: [String: Int]
        var format_version: Int
    }

    @Test func pythonVerifiesAStoreWrittenBySwift() async throws {
        let python = try await Self.interpreter()
        let path = tempPath()
        let store = try openStore(path, projections: [TenantCounts()], stateTables: ["leases"])
        var counts: [String: Int] = [:]
        for b in 0..<20 {
            let tenant = ["acme", "globex", "ünïcødé ☃", "a\u{1}b"][b % 4]
            let batch = (0..<(b % 5 + 1)).map { makeEvent(tenant: tenant, n: b * 100 + $0, correlation: b % 2 == 0 ? nil : "c\(b)") }
            _ = try await store.append(batch)
            counts[tenant, default: 0] += batch.count
        }
        var odd = makeEvent(tenant: "acme")
        odd.data = ["big": 1e300, "small": -5e-324, "neg0": -0.0, "s": "\u{7f}\"\\\u{1f}", "u": .null, "arr": [[], [:]]]
        _ = try await store.append([odd])
        counts["acme", default: 0] += 1

        let out = try await run(python, [Self.script, path])
        #expect(out.status == 0, "\(out.stderr)")
        let summary = try JSONDecoder().decode(Summary.self, from: Data(out.stdout.utf8))
        let head = try store.head()
        #expect(summary == Summary(events: Int(head.position), head: head.chainHash.hex, tenants: counts, format_version: 2))
        // Also without the lock file (a copied, idle store).
        let noLock = try await run(python, [Self.script, path, "--no-lock"])
        #expect(noLock.stdout == out.stdout)
    }

    @Test func pythonNamesThePositionOfATamperedEvent() async throws {
        let python = try await Self.interpreter()
        let path = tempPath()
        do {
            let store = try openStore(path)
            for i in 0..<5 { _ = try await store.append([makeEvent(n: i)]) }
        }
        waitUntilClosed(path)
        do {
            let env = try sharedEnvironment(path)
            let events = try #require(try env.openDatabase("events", key: UInt64BE.self, value: RawBytes.self, create: false))
            try env.writeSync { txn in
                var v = try #require(try txn.get(events, 3))
                let i = try #require(v[32...].firstIndex(of: UInt8(ascii: "1")))  // a digit in the JSON of position 3
                v[i] = UInt8(ascii: "2")
                try txn.put(events, 3, v)
            }
        }
        waitUntilClosed(path)
        let out = try await run(python, [Self.script, path])
        #expect(out.status == 1)
        #expect(out.stderr.contains("position 3"), "\(out.stderr)")
        #expect(out.stderr.contains("chain mismatch"), "\(out.stderr)")
    }
}
