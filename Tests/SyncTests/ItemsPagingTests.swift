import CanonicalJSON
import Foundation
import Inventory
import Testing

/// `atlas items --limit N --after CURSOR`: pages that together list every item exactly once.
@Suite struct ItemsPagingTests {
    typealias F = OfflineFixture
    static let selection = #"{"policy_types":["deviceConfiguration","deviceCompliancePolicy"]}"#

    /// A store with 23 items of two types (random-looking ids), and the path of its directory.
    static func store() async throws -> F {
        let f = try F()
        var lines: [String] = []
        for i in 0..<23 {
            let id = UUID().uuidString.lowercased()
            lines.append(F.itemLine(i % 3 == 0 ? "deviceCompliancePolicy" : "deviceConfiguration", F.item("\(id)-\(i)")))
        }
        let s = try await f.sync("contoso", selection, lines: lines)
        #expect(s.status == .success && s.observed == 23)
        return f
    }

    static func items(_ f: F, _ args: [String]) async throws -> AtlasProcess.Ran {
        try await AtlasProcess.run(["items", "--store", f.dir + "/store", "--tenant", "contoso"] + args)
    }

    static func ids(_ json: JSONValue?) -> [String] {
        (json?.arrayValue ?? []).map { item -> String in
            let type = item["policy_type"]?.stringValue ?? "?"
            let id = item["external_id"]?.stringValue ?? "?"
            return type + "/" + id
        }
    }

    @Test func pagesListEveryItemExactlyOnce() async throws {
        let f = try await Self.store()
        let whole = try await Self.items(f, ["--json"])
        #expect(whole.status == 0)
        let all = Self.ids(try JSONParser().parse(Array(whole.stdout.utf8)))
        #expect(all.count == 23)
        for limit in [1, 5, 23, 40] {
            var seen: [String] = []
            var after: String?
            var pages = 0
            repeat {
                let r = try await Self.items(f, ["--limit", "\(limit)", "--json"] + (after.map { ["--after", $0] } ?? []))
                #expect(r.status == 0, "\(r.stderr)")
                let page = try JSONParser().parse(Array(r.stdout.utf8))
                let ids = Self.ids(page["items"])
                #expect(ids.count <= limit)
                seen += ids
                after = page["next"]?.stringValue
                pages += 1
            } while after != nil && pages < 30
            #expect(seen == all, "limit \(limit)")
            #expect(pages == max(1, (23 + limit - 1) / limit), "limit \(limit): \(pages) pages")
        }
        // One type only, paged the same way; the other output formats carry the cursor too.
        let configs = all.filter { $0.hasPrefix("deviceConfiguration/") }
        let first = try await Self.items(f, ["--policy-type", "deviceConfiguration", "--limit", "10", "--format", "ndjson"])
        #expect(first.stdout.split(separator: "\n").count == 10)
        let cursor = try #require(first.stderr.split(separator: "\n").first { $0.hasPrefix("next: ") }).dropFirst(6)
        let rest = try await Self.items(f, ["--policy-type", "deviceConfiguration", "--after", String(cursor), "--json"])
        let restIDs = Self.ids(try JSONParser().parse(Array(rest.stdout.utf8))["items"])
        #expect(restIDs == Array(configs.dropFirst(10)))
        let table = try await Self.items(f, ["--limit", "3"])
        #expect(table.stdout.contains("3 item(s)\nnext: "), "\(table.stdout)")
    }

    @Test func aCursorAtTheEndGivesAnEmptyPage() async throws {
        let f = try await Self.store()
        let whole = try await Self.items(f, ["--json"])
        let last = try #require(try JSONParser().parse(Array(whole.stdout.utf8)).arrayValue?.last)
        let cursor = ItemsCursor(policyType: last["policy_type"]!.stringValue!, externalID: last["external_id"]!.stringValue!)
        let r = try await Self.items(f, ["--limit", "5", "--after", cursor.text, "--json"])
        #expect(r.status == 0)
        #expect(r.stdout == #"{"items":[],"next":null}"# + "\n")
    }

    @Test(arguments: [
        ["--after", "not a cursor"], ["--after", "YWJj"], ["--after", "AGFiYw"], ["--limit", "0"], ["--limit", "100001"],
        ["--policy-type", "deviceCompliancePolicy", "--after", ItemsCursor(policyType: "deviceConfiguration", externalID: "x").text],
    ])
    func badPagingArgumentsAreUsageErrors(args: [String]) async throws {
        let f = try await Self.store()
        let r = try await Self.items(f, args)
        #expect(r.status == 2, "\(args): \(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains(args[0]), "\(r.stderr)")
    }
}
