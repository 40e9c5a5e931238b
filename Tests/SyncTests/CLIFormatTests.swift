import CanonicalJSON
import EventLog
import Foundation
import GraphSimulator
import Inventory
import Sync
import Testing

/// `--format table|json|ndjson|csv`, `missing --selection-hash` and `--fail-if-missing`, through
/// the built `atlas` against the Graph simulator over loopback HTTP.
@Suite(.serialized) struct CLIFormatTests {
    typealias X = CrossProcessRunTests
    static let awkwardName = "Baseline, \"strict\"\nline two\r\nend"

    struct Result {
        var status: Int32
        var out: String
        var err: String
    }

    /// Runs `atlas` and waits for it off the cooperative pool (the simulator serves it meanwhile).
    static func atlas(_ env: X.Env, _ args: [String]) async throws -> Result {
        let p: Process
        if args.first == "sync" {
            p = try X.atlas(env, args)
        } else {
            p = Process()
            p.executableURL = URL(fileURLWithPath: X.atlasBinary)
            p.arguments = args + ["--store", env.store]
            p.standardOutput = Pipe()
            p.standardError = Pipe()
            try p.run()
        }
        return await withCheckedContinuation { c in
            DispatchQueue.global().async {
                let (out, err) = X.output(p)
                c.resume(returning: Result(status: p.terminationStatus, out: out, err: err))
            }
        }
    }

    /// A store with two syncs of contoso; between them one deviceConfiguration was deleted.
    /// Returns the environment and the deleted item.
    static func twoSyncs() async throws -> (X.Env, JSONValue) {
        let env = try await X.start(tenants: ["contoso"], slowSeconds: nil)
        let path = PolicyTypeRegistry.type("deviceConfiguration")!.versionedPath
        var first = try #require(env.simulator.items(tenant: "contoso", path: path)?.first)
        if case .object(var m) = first {
            m["displayName"] = .string(awkwardName)
            first = .object(m)
        }
        #expect(env.simulator.upsertItem(tenant: "contoso", path: path, item: first))
        let r1 = try await atlas(env, ["sync", "--tenant", "contoso", "--selection", X.selection, "--json"])
        #expect(r1.status == 0, "\(r1.err)")
        let deleted = try #require(env.simulator.items(tenant: "contoso", path: path)?.last)
        #expect(env.simulator.removeItem(tenant: "contoso", path: path, id: deleted["id"]?.stringValue ?? ""))
        let r2 = try await atlas(env, ["sync", "--tenant", "contoso", "--selection", X.selection, "--json"])
        #expect(r2.status == 0, "\(r2.err)")
        return (env, deleted)
    }

    /// Parses CSV with Python's `csv` module (the system Python) and returns the rows as JSON.
    static func parseCSV(_ text: String) throws -> [[String]] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", "import csv, io, json, sys; print(json.dumps(list(csv.reader(io.StringIO(sys.stdin.read(), newline='')))))"]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let parsed = try JSONParser().parse(String(decoding: data, as: UTF8.self))
        guard case .array(let rows) = parsed else { return [] }
        return rows.map { row in
            guard case .array(let cells) = row else { return [] }
            return cells.map { $0.stringValue ?? "" }
        }
    }

    @Test func csvAndNdjsonOfItemsRunsAndMissingParse() async throws {
        let (env, deleted) = try await Self.twoSyncs()
        defer { Task { await env.simulator.stop() } }

        let items = try await Self.atlas(env, ["items", "--tenant", "contoso", "--format", "csv"])
        #expect(items.status == 0, "\(items.err)")
        let rows = try Self.parseCSV(items.out)
        let header = try #require(rows.first)
        #expect(header.starts(with: ["policy_type", "external_id", "display_name"]))
        #expect(rows.count == 1 + 40)  // 2 × 20 seeded (the deleted one stays, last seen in the first run)
        #expect(rows.dropFirst().allSatisfy { $0.count == header.count })
        #expect(rows.contains { $0[2] == Self.awkwardName })  // comma, quotes, LF and CRLF survive

        let json = try await Self.atlas(env, ["items", "--tenant", "contoso", "--json"])
        let ndjson = try await Self.atlas(env, ["items", "--tenant", "contoso", "--format", "ndjson"])
        let lines = try ndjson.out.split(separator: "\n").map { try JSONParser().parse(String($0)) }
        #expect(lines.count == 40)
        #expect(JSONValue.array(lines) == (try JSONParser().parse(json.out)))

        let runs = try await Self.atlas(env, ["runs", "--tenant", "contoso", "--format", "csv"])
        let runRows = try Self.parseCSV(runs.out)
        #expect(runRows.first?.first == "run_id")
        #expect(runRows.count == 3)
        let observed = try #require(runRows.first?.firstIndex(of: "counts.observed"))
        #expect(runRows.dropFirst().map { $0[observed] }.sorted() == ["39", "40"])

        let missing = try await Self.atlas(env, ["missing", "--tenant", "contoso", "--selection", X.selection, "--format", "ndjson"])
        let missingLines = try missing.out.split(separator: "\n").map { try JSONParser().parse(String($0)) }
        #expect(missingLines.map { $0["external_id"] } == [deleted["id"]])
        #expect(missingLines.first?["state"] == "missing")
        #expect(missingLines.first?["confidence"] == "high")

        let bad = try await Self.atlas(env, ["items", "--tenant", "contoso", "--json", "--format", "csv"])
        #expect(bad.status == 2)
        #expect(bad.err.contains("--json and --format csv"))
    }

    @Test func selectionHashAnswersAsTheSelectionDoes() async throws {
        let (env, _) = try await Self.twoSyncs()
        defer { Task { await env.simulator.stop() } }
        let hash = try SelectionParser.parse(X.selection).selection.hash
        let bySelection = try await Self.atlas(env, ["missing", "--tenant", "contoso", "--selection", X.selection, "--json"])
        let byHash = try await Self.atlas(env, ["missing", "--tenant", "contoso", "--selection-hash", hash, "--json"])
        let byPrefix = try await Self.atlas(env, ["missing", "--tenant", "contoso", "--selection-hash", String(hash.prefix(12)).uppercased(), "--json"])
        #expect(bySelection.status == 0 && byHash.status == 0 && byPrefix.status == 0, "\(byHash.err) \(byPrefix.err)")
        let answer = try JSONParser().parse(bySelection.out)
        #expect((answer["missing"]?.arrayValue?.count ?? 0) == 1)
        #expect(try JSONParser().parse(byHash.out) == answer)
        #expect(try JSONParser().parse(byPrefix.out) == answer)

        let unknown = try await Self.atlas(env, ["missing", "--tenant", "contoso", "--selection-hash", "deadbeefdeadbeef"])
        #expect(unknown.status == 2)
        #expect(unknown.err.contains("deadbeefdeadbeef"))
        let both = try await Self.atlas(env, ["missing", "--tenant", "contoso", "--selection-hash", hash, "--selection", X.selection])
        #expect(both.status == 2)
        let neither = try await Self.atlas(env, ["missing", "--tenant", "contoso"])
        #expect(neither.status == 2)
    }

    @Test func failIfMissingExitsThreeOnlyWhenSomethingIsMissingAtHighConfidence() async throws {
        let (env, deleted) = try await Self.twoSyncs()
        defer { Task { await env.simulator.stop() } }
        let missing = try await Self.atlas(env, ["missing", "--tenant", "contoso", "--selection", X.selection, "--fail-if-missing"])
        #expect(missing.status == 3, "\(missing.out) \(missing.err)")
        #expect(missing.out.contains("missing (1)"))
        // The item comes back; a third sync sees it: nothing is missing any more.
        #expect(env.simulator.upsertItem(tenant: "contoso", path: PolicyTypeRegistry.type("deviceConfiguration")!.versionedPath, item: deleted))
        let again = try await Self.atlas(env, ["sync", "--tenant", "contoso", "--selection", X.selection, "--json"])
        #expect(again.status == 0)
        let none = try await Self.atlas(env, ["missing", "--tenant", "contoso", "--selection", X.selection, "--fail-if-missing"])
        #expect(none.status == 0, "\(none.out) \(none.err)")
        #expect(none.out.contains("missing (0)"))
    }
}

extension CLIFormatTests {
    @Test func versionNamesTheBuildAndTheStoreFormatItWrites() async throws {
        for binary in ["atlas", "atlas-replay"] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: X.atlasBinary).deletingLastPathComponent().appendingPathComponent(binary)
            p.arguments = ["--version"]
            p.standardOutput = Pipe()
            p.standardError = Pipe()
            try p.run()
            let (out, _) = X.output(p)
            #expect(p.terminationStatus == 0)
            let text = out.trimmingCharacters(in: .newlines)
            #expect(text.hasSuffix(" (store format \(LMDBEventStore.newestFormat))"), "\(text)")
            let version = text.split(separator: " ").first.map(String.init) ?? ""
            #expect(version.split(separator: ".").count == 3 && version.split(separator: ".").allSatisfy { Int($0) != nil }, "\(text)")
        }
    }
}
