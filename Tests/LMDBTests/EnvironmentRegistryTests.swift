import CLMDB
import Foundation
import LMDB
import Testing

/// One environment per path per process, with one set of settings; stale reader slots of dead
/// processes are cleared when the reader table is full.
@Suite struct EnvironmentRegistryTests {
    @Test func anOpenPathIsSharedWithTheSameSettingsAndRefusedWithOthers() throws {
        let path = tempStorePath()
        let env = try Environment.open(path: path, configuration: .init(maxReaders: 64, createIfMissing: true))
        // The same settings (creation is not a setting of the open environment), even through
        // another spelling of the path: the same environment.
        #expect(try Environment.open(path: path, configuration: .init(maxReaders: 64)) === env)
        #expect(try Environment.open(path: path + "/", configuration: .init(mapSize: 2 << 20, maxReaders: 64)) === env)
        let others: [(Environment.Configuration, String)] = [
            (.init(maxReaders: 65), "maxReaders 64 (open) vs 65 (requested)"),
            (.init(maxReaders: 64, durability: .relaxed), "durability durable (open) vs relaxed (requested)"),
            (.init(maxReaders: 64, readOnly: true), "readOnly false (open) vs true (requested)"),
            (.init(maxDatabases: 8, maxReaders: 64), "maxDatabases 64 (open) vs 8 (requested)"),
            (.init(maxMapSize: 1 << 30, maxReaders: 64), "maxMapSize"),
        ]
        for (configuration, difference) in others {
            do {
                _ = try Environment.open(path: path, configuration: configuration)
                Issue.record("\(difference): the open environment was returned")
            } catch {
                #expect(error.code == EINVAL)
                #expect(error.message.contains("already open in this process with other settings") && error.message.contains(difference),
                        "\(error.message)")
            }
        }
    }

    @Test func aFullReaderTableIsClearedOfKilledReadersAndTheReadSucceeds() throws {
        let path = tempStorePath()
        let env = try Environment.open(path: path, configuration: .init(maxReaders: 3, createIfMissing: true))
        let db = try bytesDB(env)
        try env.writeSync { txn in try txn.put(db, [1], [2]) }
        // Three Python processes (python3-lmdb, the same LMDB) each hold a read transaction.
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let script = """
            import lmdb, sys, time
            env = lmdb.open(sys.argv[1], max_readers=3, max_dbs=64, readonly=True)
            txn = env.begin()
            open(sys.argv[2], "w").close()
            time.sleep(600)
            """
        var children: [Process] = []
        for i in 0..<3 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            p.arguments = ["-c", script, path, "\(dir)/ready\(i)"]
            try p.run()
            children.append(p)
        }
        defer { for p in children where p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(30)
        while (0..<3).contains(where: { !FileManager.default.fileExists(atPath: "\(dir)/ready\($0)") }) && Date() < deadline {
            usleep(20_000)
        }
        #expect((0..<3).allSatisfy { FileManager.default.fileExists(atPath: "\(dir)/ready\($0)") }, "readers did not start")
        // Live readers fill the table: a read is refused (nothing stale to clear).
        do {
            _ = try env.read { txn in try txn.get(db, [1]) }
            Issue.record("a fourth reader fit in a table of three")
        } catch let error as LMDBError {
            #expect(error.code == LMDBError.readersFull, "\(error)")
        }
        // Killed, they leave their slots behind; the next read clears them and succeeds.
        for p in children {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        #expect(try env.read { txn in try txn.get(db, [1]) } == [2])
    }
}
