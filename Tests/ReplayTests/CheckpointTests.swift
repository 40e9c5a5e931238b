import EventLog
import Foundation
import ReplayKit
import Testing

/// Signed checkpoints: `atlas-replay keygen`, `checkpoint` and `verify --checkpoint`, run as
/// real processes on real stores.
@Suite struct CheckpointTests {
    static let pythonDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("python")

    /// The system Python (it has python3-lmdb and python3-cryptography on Debian).
    static func python(_ script: String, _ args: [String]) async throws -> ProcessResult {
        let interpreter = ProcessInfo.processInfo.environment["ATLAS_PYTHON"] ?? "/usr/bin/python3"
        return try await runProgram(URL(fileURLWithPath: interpreter), [pythonDir.appendingPathComponent(script).path] + args)
    }

    /// A store, a key and a checkpoint of its head in `dir`.
    static func signedStore(_ dir: TempDir, runs: Int = 2) async throws -> (head: LogHead, checkpoint: String, publicKey: String) {
        let head = try await makeStore(dir.store, runs: runs, items: 3)
        let k = try await runTool(["keygen", "--out", dir.path + "/key"])
        #expect(k.status == 0, "\(k.stderr)")
        let c = try await runTool(["checkpoint", "--store", dir.store, "--key", dir.path + "/key", "--out", dir.path + "/a.json"])
        #expect(c.status == 0, "\(c.stderr)")
        return (head, dir.path + "/a.json", k.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func keygenWritesAPrivateFileAndRefusesAnExistingOne() async throws {
        let dir = TempDir()
        let key = dir.path + "/key"
        let r = try await runTool(["keygen", "--out", key])
        #expect(r.status == 0, "\(r.stderr)")
        let pub = r.stdout.trimmingCharacters(in: .newlines)
        #expect(pub.count == 64 && Checkpoint.decodeHex(pub) != nil, "\(r.stdout)")
        let attrs = try FileManager.default.attributesOfItem(atPath: key)
        #expect((attrs[.posixPermissions] as? Int) == 0o600)
        #expect(try String(contentsOfFile: key + ".pub", encoding: .utf8) == pub + "\n")
        let secret = try String(contentsOfFile: key, encoding: .utf8)
        #expect(secret.count == 65 && !r.stdout.contains(secret.prefix(64)))
        let again = try await runTool(["keygen", "--out", key])
        #expect(again.status == 2 && again.stderr.contains("already exists"), "\(again.stderr)")
        #expect(try String(contentsOfFile: key, encoding: .utf8) == secret)
    }

    @Test func checkpointVerifiesPinnedAndUnpinned() async throws {
        let dir = TempDir()
        let (head, cp, pub) = try await Self.signedStore(dir)
        let obj = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cp))) as! [String: Any]
        #expect(Set(obj.keys) == Checkpoint.fields)
        #expect((obj["position"] as? Int) == Int(head.position) && (obj["chain"] as? String) == head.chainHash.hex)
        #expect((obj["public_key"] as? String) == pub)
        let unpinned = try await runTool(["verify", "--store", dir.store, "--checkpoint", cp])
        #expect(unpinned.status == 0, "\(unpinned.stdout)\n\(unpinned.stderr)")
        #expect(unpinned.stdout.contains("checkpoint \(cp): ok at position \(head.position) (key \(pub.prefix(8))…, NOT pinned"), "\(unpinned.stdout)")
        let pinned = try await runTool(["verify", "--store", dir.store, "--checkpoint", cp, "--public-key", "@\(dir.path)/key.pub"])
        #expect(pinned.status == 0, "\(pinned.stdout)\n\(pinned.stderr)")
        #expect(pinned.stdout.contains("checkpoint \(cp): ok at position \(head.position) (key \(pub.prefix(8))…, pinned)"), "\(pinned.stdout)")
        let hex = try await runTool(["verify", "--store", dir.store, "--checkpoint", cp, "--public-key", pub, "--json"])
        #expect(hex.status == 0 && hex.stdout.contains("\"checkpoints\""), "\(hex.stdout)\n\(hex.stderr)")
        // A later sync leaves an older checkpoint valid.
        try await makeStore(dir.store, runs: 1, items: 3)
        let later = try await runTool(["verify", "--store", dir.store, "--checkpoint", cp, "--public-key", pub])
        #expect(later.status == 0, "\(later.stdout)\n\(later.stderr)")
    }

    @Test func consistentRewritePassesVerifyButNotTheCheckpoint() async throws {
        let dir = TempDir()
        let (_, cp, pub) = try await Self.signedStore(dir)
        let forged = try await Self.python("rewrite_store.py", [dir.store])
        #expect(forged.status == 0, "\(forged.stderr)")
        let position = try #require(UInt64(forged.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        let rebuild = try await runTool(["rebuild", "--store", dir.store])
        #expect(rebuild.status == 0, "\(rebuild.stderr)")
        let plain = try await runTool(["verify", "--store", dir.store])
        #expect(plain.status == 0, "the rewrite is consistent: \(plain.stdout)\n\(plain.stderr)")
        let r = try await runTool(["verify", "--store", dir.store, "--checkpoint", cp, "--public-key", pub])
        #expect(r.status == 1, "\(r.stdout)\n\(r.stderr)")
        let head = try ReplayStore.openReadOnly(dir.store).head().position
        #expect(position <= head)
        #expect(r.stdout.contains("checkpoint \(cp): chain at \(head) differs from the checkpoint"), "\(r.stdout)")
        #expect(r.stdout.hasSuffix("status: failed\n") && r.stderr.contains("chain at \(head) differs"), "\(r.stdout)\n\(r.stderr)")
    }

    @Test func rolledBackLogIsCaught() async throws {
        // A copy of the store taken earlier put back in place: a clean truncation, projections
        // included, that plain verify cannot see.
        let dir = TempDir()
        let early = try await makeStore(dir.store, runs: 2, items: 3)
        try FileManager.default.copyItem(atPath: dir.store, toPath: dir.path + "/backup")
        try await makeStore(dir.store, runs: 1, items: 3)
        #expect(try await runTool(["keygen", "--out", dir.path + "/key"]).status == 0)
        let cp = dir.path + "/a.json"
        #expect(try await runTool(["checkpoint", "--store", dir.store, "--key", dir.path + "/key", "--out", cp]).status == 0)
        let late = try ReplayStore.openReadOnly(dir.store).head().position
        try FileManager.default.removeItem(atPath: dir.store)
        try FileManager.default.moveItem(atPath: dir.path + "/backup", toPath: dir.store)
        #expect(try await runTool(["verify", "--store", dir.store]).status == 0)
        let r = try await runTool(["verify", "--store", dir.store, "--checkpoint", cp])
        #expect(r.status == 1, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("checkpoint \(cp): log ends at \(early.position) before checkpoint position \(late)"), "\(r.stdout)")
    }

    @Test func forgedForeignAndOtherKeyCheckpointsAreRefused() async throws {
        let dir = TempDir()
        let (head, cp, _) = try await Self.signedStore(dir)
        let text = try String(contentsOfFile: cp, encoding: .utf8)
        // Position edited, signature left.
        let moved = dir.path + "/moved.json"
        try text.replacingOccurrences(of: "\"position\":\(head.position)", with: "\"position\":\(head.position - 1)")
            .write(toFile: moved, atomically: true, encoding: .utf8)
        // Chain edited to the one stored at another position, signature left.
        let other = try ReplayStore.openReadOnly(dir.store).rawEvents(from: 1, limit: 1)[0].chainHash.hex
        let rechained = dir.path + "/rechained.json"
        try text.replacingOccurrences(of: head.chainHash.hex, with: other).write(toFile: rechained, atomically: true, encoding: .utf8)
        for forged in [moved, rechained] {
            let r = try await runTool(["verify", "--store", dir.store, "--checkpoint", forged])
            #expect(r.status == 1 && r.stdout.contains("checkpoint \(forged): signature does not verify"), "\(r.stdout)\n\(r.stderr)")
        }
        // Another store's checkpoint, well signed.
        let dir2 = TempDir()
        let (_, cp2, _) = try await Self.signedStore(dir2)
        let id = try #require(try ReplayStore.openReadOnly(dir.store).metadata()["store_id"])
        let id2 = try #require(try ReplayStore.openReadOnly(dir2.store).metadata()["store_id"])
        let foreign = try await runTool(["verify", "--store", dir.store, "--checkpoint", cp2])
        #expect(foreign.status == 1 && foreign.stdout.contains("checkpoint \(cp2): belongs to store \(id2), not this store \(id)"), "\(foreign.stdout)")
        // Pinned to another key.
        let otherKey = try await runTool(["verify", "--store", dir.store, "--checkpoint", cp, "--public-key", "@\(dir2.path)/key.pub"])
        #expect(otherKey.status == 1 && otherKey.stdout.contains("checkpoint \(cp): signed by another key"), "\(otherKey.stdout)")
        // One bad checkpoint among good ones fails the whole verification.
        let mixed = try await runTool(["verify", "--store", dir.store, "--checkpoint", cp, "--checkpoint", moved])
        #expect(mixed.status == 1 && mixed.stdout.contains("checkpoint \(cp): ok") && mixed.stdout.contains("status: failed"), "\(mixed.stdout)")
    }

    @Test func badInputIsAUsageError() async throws {
        let dir = TempDir()
        let (head, cp, _) = try await Self.signedStore(dir)
        let text = try String(contentsOfFile: cp, encoding: .utf8)
        let cases: [(String, String)] = [
            ("{\"position\":", "not valid JSON"),
            ("[1]", "not a JSON object"),
            (text.replacingOccurrences(of: "\"position\":\(head.position),", with: ""), "missing field \"position\""),
            (text.replacingOccurrences(of: "{", with: "{\"extra\":1,"), "unexpected field \"extra\""),
            (text.replacingOccurrences(of: head.chainHash.hex, with: "zz" + String(head.chainHash.hex.dropFirst(2))), "field \"chain\" must be 64 lowercase hex"),
        ]
        for (i, (content, message)) in cases.enumerated() {
            let path = dir.path + "/bad\(i).json"
            try content.write(toFile: path, atomically: true, encoding: .utf8)
            let r = try await runTool(["verify", "--store", dir.store, "--checkpoint", path])
            #expect(r.status == 2 && r.stderr.contains("checkpoint \(path): \(message)"), "\(i): \(r.stderr)")
        }
        let missing = try await runTool(["verify", "--store", dir.store, "--checkpoint", dir.path + "/nope.json"])
        #expect(missing.status == 2 && missing.stderr.contains("cannot read checkpoint \(dir.path)/nope.json"), "\(missing.stderr)")
        let badKey = try await runTool(["verify", "--store", dir.store, "--checkpoint", cp, "--public-key", "abc"])
        #expect(badKey.status == 2 && badKey.stderr.contains("--public-key"), "\(badKey.stderr)")
        // The private key must be private, well formed, and the store not empty.
        chmod(dir.path + "/key", 0o640)
        let open = try await runTool(["checkpoint", "--store", dir.store, "--key", dir.path + "/key"])
        #expect(open.status == 2 && open.stderr.contains("chmod 600"), "\(open.stderr)")
        try "not a key\n".write(toFile: dir.path + "/junk", atomically: true, encoding: .utf8)
        chmod(dir.path + "/junk", 0o600)
        let junk = try await runTool(["checkpoint", "--store", dir.store, "--key", dir.path + "/junk"])
        #expect(junk.status == 2 && junk.stderr.contains("malformed"), "\(junk.stderr)")
        chmod(dir.path + "/key", 0o600)
        let empty = dir.path + "/empty"
        _ = try openStore(empty)
        let e = try await runTool(["checkpoint", "--store", empty, "--key", dir.path + "/key"])
        #expect(e.status == 2 && e.stderr.contains("is empty"), "\(e.stderr)")
        let exists = try await runTool(["checkpoint", "--store", dir.store, "--key", dir.path + "/key", "--out", cp])
        #expect(exists.status == 2 && exists.stderr.contains("already exists"), "\(exists.stderr)")
        #expect(try String(contentsOfFile: cp, encoding: .utf8) == text)
    }

    @Test func pythonChecksTheCheckpointIndependently() async throws {
        let dir = TempDir()
        let (head, cp, pub) = try await Self.signedStore(dir)
        let good = try await Self.python("check_checkpoint.py", [cp, dir.store, "--public-key", pub])
        #expect(good.status == 0 && good.stdout == "ok \(head.position)\n", "\(good.stdout)\n\(good.stderr)")
        // Tampered: the recorded_at edited, signature left.
        let text = try String(contentsOfFile: cp, encoding: .utf8)
        let tampered = dir.path + "/tampered.json"
        try text.replacingOccurrences(of: "\"recorded_at\":\"2", with: "\"recorded_at\":\"1").write(toFile: tampered, atomically: true, encoding: .utf8)
        let bad = try await Self.python("check_checkpoint.py", [tampered, dir.store])
        #expect(bad.status == 1 && bad.stderr.contains("signature does not verify"), "\(bad.stdout)\n\(bad.stderr)")
        // Pinned to another key.
        let other = try await runTool(["keygen", "--out", dir.path + "/other"]).stdout.trimmingCharacters(in: .newlines)
        let wrongKey = try await Self.python("check_checkpoint.py", [cp, dir.store, "--public-key", other])
        #expect(wrongKey.status == 1 && wrongKey.stderr.contains("signature does not verify"), "\(wrongKey.stderr)")
        // A consistent rewrite: the store verifies, the chain at the checkpoint does not.
        #expect(try await Self.python("rewrite_store.py", [dir.store]).status == 0)
        let rewritten = try await Self.python("check_checkpoint.py", [cp, dir.store])
        #expect(rewritten.status == 1 && rewritten.stderr.contains("chain at \(head.position) differs"), "\(rewritten.stderr)")
        let plain = try await Self.python("verify_store.py", [dir.store])
        #expect(plain.status == 0, "\(plain.stderr)")
        let malformed = dir.path + "/malformed.json"
        try "{}".write(toFile: malformed, atomically: true, encoding: .utf8)
        #expect(try await Self.python("check_checkpoint.py", [malformed, dir.store]).status == 2)
    }
}
