import CanonicalJSON
import Foundation
import GraphSimulator
import Inventory
import Sync
import Testing

@Suite("Graph source: paging", .timeLimit(.minutes(2)))
struct GraphPagingTests {
    typealias H = GraphHarness

    @Test("1,000+ items per type arrive exactly once, every page requested once")
    func largeCollections() async throws {
        try await H.with(items: 1_030, collections: [H.settingsCatalog, H.deviceConfiguration]) { h in
            let summary = try await h.sync([H.settingsCatalog, H.deviceConfiguration])
            #expect(summary.status == .success)
            #expect(summary.errors == 0)
            #expect(summary.observed == 2_060)  // no page delivered twice
            for type in [H.settingsCatalog, H.deviceConfiguration] {
                #expect(summary.types[type.key] == .init(complete: true, count: 1_030, errorCode: nil))
                let stored = try h.queries.items(tenant: H.tenant, policyType: type.key)
                #expect(stored.count == 1_030)
                #expect(Set(stored.map(\.externalID)) == h.simulatedIDs(type))
                // Every page requested once, in order; every request authenticated.
                let pages = h.requests(type.versionedPath).map { $0.page ?? -1 }
                let pageSize = type == H.settingsCatalog ? 25 : 100
                #expect(pages == Array(1...((1_030 + pageSize - 1) / pageSize)))
                #expect(h.requests(type.versionedPath).allSatisfy { $0.hasAuthorization && $0.status == 200 })
            }
            // One token for the whole run.
            #expect(h.tokenRequests.count == 1)
            let pageEvents = h.progress.filter { if case .page = $0 { true } else { false } }
            #expect(pageEvents.count == 42 + 11)
        }
    }

    @Test("the start event records source graph; empty collections are complete")
    func emptyCollection() async throws {
        try await H.with(items: 0, collections: [H.settingsCatalog]) { h in
            let summary = try await h.sync([H.settingsCatalog])
            #expect(summary.status == .success)
            #expect(summary.types[H.settingsCatalog.key] == .init(complete: true, count: 0, errorCode: nil))
            #expect(try h.run(summary).source == "graph")
        }
    }

    @Test("a nextLink to another port is refused before any request reaches it")
    func foreignNextLink() async throws {
        let other = GraphSimulator(seed: SimulatorSeed.generate(tenants: [H.tenant], itemsPerCollection: 5, seed: 3))
        let otherBase = try await other.start()
        do {
            try await foreignNextLink(other: other, otherBase: otherBase)
        } catch {
            await other.stop()
            throw error
        }
        await other.stop()
    }

    func foreignNextLink(other: GraphSimulator, otherBase: String) async throws {
        try await H.with(items: 60) { h in
            let path = H.settingsCatalog.versionedPath
            h.simulator.addFault(tenant: H.tenant, path: path,
                                 .init(.foreignNextLink("\(otherBase)\(path)?$skiptoken=stolen"), times: 1, page: 2))
            let summary = try await h.sync([H.settingsCatalog, H.deviceConfiguration])
            #expect(summary.status == .partial)
            #expect(summary.errorCodes == [.graphForeignNextLink])
            #expect(summary.types[H.settingsCatalog.key] == .init(complete: false, count: 50, errorCode: .graphForeignNextLink))
            #expect(summary.types[H.deviceConfiguration.key]?.complete == true)
            #expect(other.requests().isEmpty)
            #expect(h.requests(path).map { $0.page } == [1, 2])
            let context = try h.run(summary).errorContext.joined(separator: "\n")
            #expect(context.contains("graph_foreign_next_link"))
        }
    }

    @Test("a nextLink to another host (user-info trick) is refused")
    func userInfoNextLink() async throws {
        try await H.with(items: 60, collections: [H.settingsCatalog]) { h in
            let path = H.settingsCatalog.versionedPath
            let port = URL(string: h.baseURL)!.port!
            h.simulator.addFault(tenant: H.tenant, path: path,
                                 .init(.foreignNextLink("http://127.0.0.1:\(port)@127.0.0.2:\(port)\(path)"), times: 1, page: 1))
            let summary = try await h.sync([H.settingsCatalog])
            #expect(summary.status == .failed)
            #expect(summary.types[H.settingsCatalog.key]?.errorCode == .graphForeignNextLink)
            #expect(h.requests(path).count == 1)
        }
    }

    @Test("a nextLink seen before ends the type with graph_paging_loop")
    func endlessNextLink() async throws {
        try await H.with(items: 60, collections: [H.settingsCatalog, H.deviceConfiguration]) { h in
            let path = H.settingsCatalog.versionedPath
            h.simulator.addFault(tenant: H.tenant, path: path, .init(.endlessNextLink, times: nil, page: 2))
            let summary = try await h.sync([H.settingsCatalog, H.deviceConfiguration])
            #expect(summary.status == .partial)
            #expect(summary.types[H.settingsCatalog.key]?.complete == false)
            #expect(summary.types[H.settingsCatalog.key]?.errorCode == .graphPagingLoop)
            #expect(summary.types[H.deviceConfiguration.key]?.complete == true)
            #expect(h.requests(path).count == 3)  // page 1, page 2, page 2 again via its own link; then stopped
        }
    }

    @Test("a nextLink that repeats verbatim ends the type with graph_paging_loop")
    func repeatingNextLink() async throws {
        try await H.with(items: 60, collections: [H.settingsCatalog]) { h in
            let path = H.settingsCatalog.versionedPath
            // Page 1 links to "?$top=25", which is page 1 again, which links to itself.
            h.simulator.addFault(tenant: H.tenant, path: path, .init(.foreignNextLink("\(h.baseURL)\(path)?$top=25"), times: nil, page: 1))
            let summary = try await h.sync([H.settingsCatalog])
            #expect(summary.status == .failed)
            #expect(summary.types[H.settingsCatalog.key] == .init(complete: false, count: 25, errorCode: .graphPagingLoop))
            #expect(h.requests(path).count == 2)
        }
    }

    @Test("more pages than the limit ends the type with graph_paging_loop")
    func pageLimit() async throws {
        try await H.with(items: 100, collections: [H.settingsCatalog], options: { $0.maxPagesPerType = 3 }) { h in
            let summary = try await h.sync([H.settingsCatalog])
            #expect(summary.status == .failed)
            #expect(summary.types[H.settingsCatalog.key]?.errorCode == .graphPagingLoop)
            #expect(h.requests(H.settingsCatalog.versionedPath).count == 3)
        }
    }

    @Test("types are read concurrently, at most typeConcurrency at once")
    func typeConcurrency() async throws {
        let types = ["deviceConfiguration", "settingsCatalogPolicy", "deviceCompliancePolicy", "endpointSecurityIntent",
                     "deviceManagementScript", "deviceShellScript"].map { PolicyTypeRegistry.type($0)! }
        try await H.with(items: 3, collections: types, options: { $0.typeConcurrency = 3 }) { h in
            for t in types { h.simulator.addFault(tenant: H.tenant, path: t.versionedPath, .init(.slow(seconds: 3))) }
            let summary = try await h.sync(types)
            #expect(summary.status == .success)
            // Each request takes at least 3 s, and a type starts only when another ends: no four
            // requests arrive within 3 s. The first wave overlaps: its three arrive together
            // (margins generous enough for a loaded machine).
            let arrivals = h.simulator.requests().filter { $0.method == "GET" }.map(\.timestamp).sorted()
            #expect(arrivals.count == 6)
            for k in 0..<(arrivals.count - 3) {
                #expect(arrivals[k + 3].timeIntervalSince(arrivals[k]) >= 2.99)
            }
            #expect(arrivals[2].timeIntervalSince(arrivals[0]) < 2.5)
        }
    }
}
