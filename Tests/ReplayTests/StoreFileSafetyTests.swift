import EventLog
import Foundation
import Inventory
import Testing

/// Store files are never followed through symbolic links, and a store that others could
/// tamper with is not written to.
@Suite struct StoreFileSafetyTests {
    static func mode(_ path: String) -> mode_t {
        var st = stat()
        #expect(stat(path, &st) == 0)
        return st.st_mode & 0o7777
    }

    @Test func aPlantedLockFileSymlinkIsRefusedAndItsTargetUntouched() async throws {
        let dir = TempDir()
        try await makeStore(dir.store, tenants: ["contoso"], runs: 1, items: 2)
        let victim = dir.path + "/victim.txt"
        try "precious\n".write(toFile: victim, atomically: true, encoding: .utf8)
        for name in ["lock.mdb", "data.mdb"] {
            let file = dir.store + "/" + name
            let saved = file + ".saved"
            #expect(rename(file, saved) == 0)
            #expect(symlink(victim, file) == 0)
            for (tool, args) in [("atlas-replay", ["rebuild"]), ("atlas", ["items", "--tenant", "contoso"]), ("atlas-replay", ["verify"])] {
                let r = try await runTool(args + ["--store", dir.store], tool: tool)
                #expect(r.status == 2, "\(tool) \(args[0]) with \(name) a symlink: \(r.status) \(r.stderr)")
                #expect(r.stderr.contains("symbolic link") && r.stderr.contains("rm "), "\(r.stderr)")
            }
            #expect(throws: EventLogError.self) { try openStore(dir.store) }
            #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
            #expect(unlink(file) == 0 && rename(saved, file) == 0)
        }
        #expect(try await runTool(["rebuild", "--store", dir.store]).status == 0)
    }

    @Test func loosePermissionsAndForeignOwnersAreRefusedForWritingOnly() async throws {
        let dir = TempDir()
        try await makeStore(dir.store, tenants: ["contoso"], runs: 1, items: 2)
        let items = try await runTool(["items", "--tenant", "contoso", "--store", dir.store], tool: "atlas")
        #expect(items.status == 0)
        // A world-writable directory, then a group-writable data file.
        for (path, fixed) in [(dir.store, mode_t(0o700)), (dir.store + "/data.mdb", mode_t(0o600))] {
            let old = Self.mode(path)
            chmod(path, 0o777 & ~(path.hasSuffix("mdb") ? 0o111 : 0))
            let w = try await runTool(["rebuild", "--store", dir.store])
            #expect(w.status == 2 && w.stderr.contains("writable by group or others") && w.stderr.contains("chmod \(fixed == 0o700 ? "700" : "600") "),
                    "\(w.stderr)")
            // Reading is still allowed, with the same answer.
            #expect(try await runTool(["items", "--tenant", "contoso", "--store", dir.store], tool: "atlas").stdout == items.stdout)
            chmod(path, old)
        }
        guard getuid() == 0 else {
            print("skipped the foreign-owner half of loosePermissionsAndForeignOwnersAreRefusedForWritingOnly: needs root to chown")
            return
        }
        #expect(chown(dir.store, 65534, 65534) == 0)
        let w = try await runTool(["rebuild", "--store", dir.store])
        #expect(w.status == 2 && w.stderr.contains("owned by uid 65534") && w.stderr.contains("chown -R 0 "), "\(w.stderr)")
        #expect(try await runTool(["items", "--tenant", "contoso", "--store", dir.store], tool: "atlas").stdout == items.stdout)
        #expect(chown(dir.store, 0, 0) == 0)
        #expect(try await runTool(["rebuild", "--store", dir.store]).status == 0)
    }

    @Test func newStoresAreOwnerOnly() throws {
        let dir = TempDir()
        // An existing empty directory is tightened; a new one is created owner-only.
        let existing = dir.path + "/existing"
        try FileManager.default.createDirectory(atPath: existing, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        _ = try openStore(existing)
        #expect(Self.mode(existing) == 0o700)
        _ = try openStore(dir.path + "/new")
        #expect(Self.mode(dir.path + "/new") == 0o700)
        for name in ["data.mdb", "lock.mdb"] { #expect(Self.mode(existing + "/" + name) == 0o600) }
    }
}
