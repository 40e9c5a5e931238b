import CanonicalJSON
import Foundation
import GraphSimulator
import Inventory
import Sync
import Testing

@Suite("Graph source: errors, auth, secrets, cancellation", .timeLimit(.minutes(2)))
struct GraphFailureTests {
    typealias H = GraphHarness

    @Test("401 mid-run: the token is refreshed once and the page re-requested")
    func unauthorizedRefresh() async throws {
        try await H.with(items: 60, collections: [H.settingsCatalog]) { h in
            let path = H.settingsCatalog.versionedPath
            let first = try await h.sync([H.settingsCatalog])
            #expect(first.status == .success)
            #expect(h.tokenRequests.count == 1)
            // The cached token is revoked between runs, and a 401 hits page 2 of the next run.
            h.simulator.revokeTokens()
            h.simulator.clearRequests()
            let second = try await h.sync([H.settingsCatalog])
            #expect(second.status == .success)
            h.simulator.addFault(tenant: H.tenant, path: path, .init(.unauthorized, times: 1, page: 2))
            h.simulator.clearRequests()
            let third = try await h.sync([H.settingsCatalog])
            #expect(third.status == .success)
            #expect(third.errors == 0)
            #expect(third.observed == 60)
            let log = h.requests(path)
            #expect(log.map(\.page) == [1, 2, 2, 3])
            #expect(log.map(\.status) == [200, 401, 200, 200])
            #expect(log[1].authorization != log[2].authorization)
            #expect(h.tokenRequests.count == 1)
        }
    }

    @Test("the token endpoint's 503 is retried; a slow response past the request timeout is retried")
    func tokenRetryAndRequestTimeout() async throws {
        try await H.with(items: 60, collections: [H.settingsCatalog], options: { $0.requestTimeout = .seconds(4) }) { h in
            h.simulator.addFault(tenant: H.tenant, path: GraphSimulator.tokenFaultPath, .init(.status(503, retryAfter: "0.05"), times: 1))
            h.simulator.addFault(tenant: H.tenant, path: H.settingsCatalog.versionedPath, .init(.slow(seconds: 10), times: 1, page: 2))
            let summary = try await h.sync([H.settingsCatalog])
            #expect(summary.status == .success)
            #expect(summary.observed == 60)
            #expect(h.tokenRequests.map(\.status) == [503, 200])
            // The timed-out request may be logged late (the simulator answers it after 10 s).
            #expect(Set(h.requests(H.settingsCatalog.versionedPath).map(\.page)) == [1, 2, 3])
            #expect(h.progress.contains { if case .retry(_, 0, _, 1) = $0 { true } else { false } })
        }
    }

    @Test("401 again after a fresh token is graph_unauthorized")
    func unauthorizedTwice() async throws {
        try await H.with(items: 10, collections: [H.settingsCatalog, H.deviceConfiguration]) { h in
            h.simulator.addFault(tenant: H.tenant, path: H.settingsCatalog.versionedPath, .init(.unauthorized, times: nil))
            let summary = try await h.sync([H.settingsCatalog, H.deviceConfiguration])
            #expect(summary.status == .partial)
            #expect(summary.types[H.settingsCatalog.key]?.errorCode == .graphUnauthorized)
            #expect(h.requests(H.settingsCatalog.versionedPath).count == 2)
        }
    }

    @Test("403 is graph_forbidden; 404 is graph_not_found; the other types complete")
    func forbiddenAndNotFound() async throws {
        try await H.with(items: 10, configuration: .init(missingCollection: .notFound)) { h in
            h.simulator.addFault(tenant: H.tenant, path: H.settingsCatalog.versionedPath, .init(.forbidden, times: nil))
            h.simulator.removeCollection(tenant: H.tenant, path: H.compliance.versionedPath)
            let summary = try await h.sync([H.settingsCatalog, H.deviceConfiguration, H.compliance])
            #expect(summary.status == .partial)
            #expect(summary.types[H.settingsCatalog.key] == .init(complete: false, count: 0, errorCode: .graphForbidden))
            #expect(summary.types[H.compliance.key] == .init(complete: false, count: 0, errorCode: .graphNotFound))
            #expect(summary.types[H.deviceConfiguration.key] == .init(complete: true, count: 10, errorCode: nil))
            #expect(Set(summary.errorCodes) == [.graphForbidden, .graphNotFound])
            #expect(h.requests(H.settingsCatalog.versionedPath).count == 1)  // never retried
            let context = try h.run(summary).errorContext.joined(separator: "\n")
            #expect(context.contains("Forbidden"))
        }
    }

    @Test("non-JSON, missing value and error objects in 200 responses are graph_bad_response")
    func badResponses() async throws {
        let types = [H.settingsCatalog, H.deviceConfiguration, H.compliance]
        try await H.with(items: 60, collections: types + [PolicyTypeRegistry.type("endpointSecurityIntent")!]) { h in
            h.simulator.addFault(tenant: H.tenant, path: H.settingsCatalog.versionedPath, .init(.nonJSON, times: 1, page: 2))
            h.simulator.addFault(tenant: H.tenant, path: H.deviceConfiguration.versionedPath, .init(.missingValue, times: 1))
            h.simulator.addFault(tenant: H.tenant, path: H.compliance.versionedPath, .init(.errorBody200(), times: 1))
            let intents = PolicyTypeRegistry.type("endpointSecurityIntent")!
            let summary = try await h.sync(types + [intents])
            #expect(summary.status == .partial)
            #expect(summary.errorCodes == [.graphBadResponse])
            #expect(summary.errors == 3)
            #expect(summary.types[H.settingsCatalog.key] == .init(complete: false, count: 25, errorCode: .graphBadResponse))
            #expect(summary.types[H.deviceConfiguration.key] == .init(complete: false, count: 0, errorCode: .graphBadResponse))
            #expect(summary.types[H.compliance.key] == .init(complete: false, count: 0, errorCode: .graphBadResponse))
            #expect(summary.types[intents.key]?.complete == true)
            let context = try h.run(summary).errorContext.joined(separator: "\n")
            #expect(context.contains("not JSON"))
            #expect(context.contains("no value member"))
            #expect(context.contains("InternalServerError"))
        }
    }

    @Test("a response larger than maxResponseBytes is graph_bad_response")
    func oversizedResponse() async throws {
        try await H.with(items: 60, collections: [H.deviceConfiguration], options: { $0.maxResponseBytes = 4096 }) { h in
            let summary = try await h.sync([H.deviceConfiguration])
            #expect(summary.status == .failed)
            #expect(summary.types[H.deviceConfiguration.key]?.errorCode == .graphBadResponse)
        }
    }

    @Test("an item without id is counted as graph_item_invalid")
    func itemWithoutID() async throws {
        try await H.with(items: 60, collections: [H.settingsCatalog]) { h in
            h.simulator.addFault(tenant: H.tenant, path: H.settingsCatalog.versionedPath, .init(.itemWithoutId, times: 1, page: 2))
            let summary = try await h.sync([H.settingsCatalog])
            #expect(summary.errors == 1)
            #expect(summary.errorCodes == [.graphItemInvalid])
            #expect(summary.observed == 59)
            #expect(summary.types[H.settingsCatalog.key]?.complete == false)
        }
    }

    @Test("every type failing makes the run failed; wrong credentials are auth_failed without the secret")
    func allTypesFail() async throws {
        let wrong = "wrong-secret-\(UUID().uuidString)"
        try await H.with(items: 10, secret: wrong) { h in
            let summary = try await h.sync([H.settingsCatalog, H.deviceConfiguration, H.compliance])
            #expect(summary.status == .failed)
            #expect(summary.errorCodes == [.authFailed])
            #expect(summary.errors == 1, "one authentication error for the run, not one per type")
            #expect(summary.types.values.allSatisfy { !$0.complete && $0.errorCode == .authFailed })
            let context = try h.run(summary).errorContext.joined(separator: "\n")
            #expect(context.contains("AADSTS7000215"))
            #expect(!context.contains(wrong))
            #expect(try !h.storeFiles().values.contains { $0.containsFragment(of: wrong) })
            // A refusal is remembered briefly: one token request, not one per type.
            #expect(h.tokenRequests.count == 1)
            #expect(h.simulator.requests().allSatisfy { $0.method == "POST" })
        }
        try await H.with(items: 10) { h in
            for t in [H.settingsCatalog, H.deviceConfiguration, H.compliance] {
                h.simulator.addFault(tenant: H.tenant, path: t.versionedPath, .init(.forbidden, times: nil))
            }
            let summary = try await h.sync([H.settingsCatalog, H.deviceConfiguration, H.compliance])
            #expect(summary.status == .failed)
            #expect(summary.errors == 3)
        }
    }

    @Test("the client secret and bearer tokens never reach the store or the error context")
    func secretsStayOut() async throws {
        try await H.with(items: 60) { h in
            let types = [H.settingsCatalog, H.deviceConfiguration, H.compliance]
            // Errors whose messages come from the server, plus a token refresh.
            h.simulator.addFault(tenant: H.tenant, path: H.settingsCatalog.versionedPath, .init(.unauthorized, times: nil))
            h.simulator.addFault(tenant: H.tenant, path: H.deviceConfiguration.versionedPath, .init(.status(429, retryAfter: "0.01"), times: nil))
            h.simulator.addFault(tenant: H.tenant, path: H.compliance.versionedPath, .init(.errorBody200(code: "Oops", message: "bad"), times: 1))
            let bad = try await h.sync(types)
            #expect(bad.status == .failed)
            h.simulator.clearFaults()
            h.simulator.revokeTokens()
            let good = try await h.sync(types)
            #expect(good.status == .success)

            let tokens = h.bearerTokens
            #expect(tokens.count >= 2)
            #expect(Set(h.source.secrets).isSuperset(of: tokens))
            #expect(h.source.secrets.first == h.clientSecret)
            let files = try h.storeFiles()
            #expect(files["data.mdb"] != nil)
            for (name, bytes) in files {
                #expect(!bytes.containsFragment(of: h.clientSecret), "a piece of the client secret in \(name)")
                for token in tokens { #expect(!bytes.containsFragment(of: token), "a piece of a bearer token in \(name)") }
            }
            for run in try h.queries.runs(tenant: H.tenant) {
                let context = run.errorContext.joined(separator: "\n")
                #expect(!context.contains(h.clientSecret))
                for token in tokens { #expect(!context.contains(token)) }
                #expect(!context.lowercased().contains("bearer "))
            }
        }
    }

    @Test("cancellation ends the run promptly; every type is finished incomplete")
    func cancellation() async throws {
        let types = ["deviceConfiguration", "settingsCatalogPolicy", "deviceCompliancePolicy", "endpointSecurityIntent",
                     "deviceManagementScript", "deviceShellScript"].map { PolicyTypeRegistry.type($0)! }
        try await H.with(items: 5, collections: types, options: { $0.typeConcurrency = 2 }) { h in
            for t in types { h.simulator.addFault(tenant: H.tenant, path: t.versionedPath, .init(.slow(seconds: 30), times: nil)) }
            let sink = RecordingSink()
            let source = h.source
            let task = Task { await source.enumerate(tenant: H.tenant, types: types, into: sink) }
            try await Task.sleep(for: .milliseconds(300))
            let start = ContinuousClock.now
            task.cancel()
            await task.value
            // Far less than the 30 s the slow responses would take (generous for a loaded machine).
            #expect(ContinuousClock.now - start < .seconds(15))
            let finished = await sink.finished
            #expect(finished.count == types.count)
            #expect(Set(finished.map(\.0)) == Set(types.map(\.key)))
            #expect(finished.allSatisfy { !$0.1 && $0.2?.code == .cancelled })
        }
    }

    @Test("a cancelled sync run is recorded with every type incomplete")
    func cancelledRun() async throws {
        try await H.with(items: 5, collections: [H.settingsCatalog, H.deviceConfiguration]) { h in
            h.simulator.addFault(tenant: H.tenant, path: H.settingsCatalog.versionedPath, .init(.slow(seconds: 30), times: nil))
            let task = Task { try await h.sync([H.settingsCatalog, H.deviceConfiguration]) }
            try await Task.sleep(for: .milliseconds(400))
            let start = ContinuousClock.now
            task.cancel()
            let summary = try await task.value
            // Far less than the 30 s the slow responses would take (generous for a loaded machine).
            #expect(ContinuousClock.now - start < .seconds(15))
            #expect(summary.status != .success)
            #expect(summary.errorCodes.contains(.cancelled))
            #expect(summary.types[H.settingsCatalog.key]?.complete == false)
        }
    }
}
