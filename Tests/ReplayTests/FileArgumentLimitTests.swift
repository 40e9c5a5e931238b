import CanonicalJSON
import Foundation
import Testing

/// Every file a command line names (selection, tenants, credentials, checkpoint, public and
/// private key files) is examined before it is read: a 300 MB sparse file is refused at once
/// with exit 2 naming the file, its size and the limit, without reading it (the child's peak
/// memory stays small), and a FIFO is refused as not a regular file instead of blocking.
@Suite(.serialized, .timeLimit(.minutes(5))) struct FileArgumentLimitTests {
    /// Runs a built tool under Python, which reports the child's exit status, stderr and peak
    /// resident memory (`ru_maxrss` of its children); a child still running after 30 s is
    /// killed and reported with status -999.
    static let runner = """
        import json, resource, subprocess, sys
        try:
            r = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
            status, err = r.returncode, r.stderr.decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            status, err = -999, "timed out"
        print(json.dumps({"status": status, "stderr": err, "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
        """

    struct Measured {
        var status: Int
        var stderr: String
        var maxResidentKB: Int
        var seconds: Double
    }

    static func measure(_ tool: String, _ args: [String]) async throws -> Measured {
        let started = Date()
        let r = try await runProgram(URL(fileURLWithPath: "/usr/bin/python3"),
                               ["-c", runner, productsDirectory().appendingPathComponent(tool).path] + args)
        let v = try JSONParser().parse(Array(r.stdout.utf8))
        return Measured(status: v["status"]?.intValue ?? -1, stderr: v["stderr"]?.stringValue ?? r.stderr,
                        maxResidentKB: v["maxrss_kb"]?.intValue ?? -1, seconds: Date().timeIntervalSince(started))
    }

    /// A file argument: the tool, its arguments with `FILE` standing for the file, what the
    /// message calls it, its limit, and whether it must be private to its owner.
    struct Row: CustomStringConvertible, Sendable {
        var tool: String
        var args: [String]
        var role: String
        var limit: Int
        var ownerOnly = false
        var description: String { "\(tool) \(role)" }
    }

    static let rows: [Row] = [
        Row(tool: "atlas", args: ["selection", "hash", "--selection", "@FILE"], role: "selection file", limit: 1 << 20),
        Row(tool: "atlas", args: ["sync", "--store", "STORE", "--tenant", "contoso", "--selection", "@FILE"], role: "selection file", limit: 1 << 20),
        Row(tool: "atlas", args: ["sync", "--store", "STORE", "--selection", "{}", "--tenants-file", "FILE"], role: "tenants file", limit: 16 << 20),
        Row(tool: "atlas", args: ["sync", "--store", "STORE", "--tenant", "contoso", "--selection", "{}", "--credentials-file", "FILE"],
            role: "credentials file", limit: 1 << 20, ownerOnly: true),
        Row(tool: "atlas-replay", args: ["verify", "--store", "STORE", "--checkpoint", "FILE"], role: "checkpoint", limit: 64 << 10),
        Row(tool: "atlas-replay", args: ["verify", "--store", "STORE", "--checkpoint", "CHECKPOINT", "--public-key", "@FILE"],
            role: "--public-key file", limit: 1 << 10),
        Row(tool: "atlas-replay", args: ["checkpoint", "--store", "STORE", "--key", "FILE"], role: "key file", limit: 1 << 10, ownerOnly: true),
        Row(tool: "atlas-replay", args: ["as-of", "missing", "--store", "STORE", "--position", "1", "--tenant", "contoso", "--selection", "@FILE"],
            role: "selection file", limit: 1 << 20),
    ]

    static func arguments(_ row: Row, file: String, dir: TempDir, checkpoint: String) -> [String] {
        row.args.map { a in
            switch a {
            case "FILE": return file
            case "@FILE": return "@" + file
            case "STORE": return dir.store
            case "CHECKPOINT": return checkpoint
            default: return a
            }
        }
    }

    @Test func aHugeFileIsRefusedBeforeItIsRead() async throws {
        let dir = TempDir()
        let (_, checkpoint, _) = try await CheckpointTests.signedStore(dir)
        let big = dir.path + "/big"
        let size: Int64 = 300 << 20
        let fd = open(big, O_CREAT | O_WRONLY | O_EXCL, 0o600)
        #expect(fd >= 0 && ftruncate(fd, off_t(size)) == 0)
        close(fd)
        for row in Self.rows {
            chmod(big, row.ownerOnly ? 0o600 : 0o644)
            let m = try await Self.measure(row.tool, Self.arguments(row, file: big, dir: dir, checkpoint: checkpoint))
            #expect(m.status == 2, "\(row): \(m.stderr)")
            #expect(m.stderr.contains("\(row.role) \(big) is \(size) bytes, over the limit of \(row.limit) bytes"), "\(row): \(m.stderr)")
            #expect(m.maxResidentKB < 150_000, "\(row): the child's peak resident memory was \(m.maxResidentKB) KB")
            #expect(m.seconds < 20, "\(row): \(m.seconds) s")
        }
    }

    @Test func aFIFOIsRefusedAsNotARegularFileWithoutBlocking() async throws {
        let dir = TempDir()
        let (_, checkpoint, _) = try await CheckpointTests.signedStore(dir)
        let fifo = dir.path + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        for row in Self.rows {
            let m = try await Self.measure(row.tool, Self.arguments(row, file: fifo, dir: dir, checkpoint: checkpoint))
            #expect(m.status == 2, "\(row): \(m.stderr)")
            #expect(m.stderr.contains("\(row.role) \(fifo) is not a regular file"), "\(row): \(m.stderr)")
        }
    }
}
