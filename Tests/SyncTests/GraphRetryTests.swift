import CanonicalJSON
import Foundation
import GraphSimulator
import Inventory
import Sync
import Testing

@Suite("Graph source: throttling and retries", .timeLimit(.minutes(2)))
struct GraphRetryTests {
    typealias H = GraphHarness

    /// The seconds between the 429 answer and the next request of the same path.
    func gapAfterFault(_ log: [RecordedRequest]) throws -> Double {
        let i = try #require(log.firstIndex { $0.fault != nil })
        try #require(i + 1 < log.count)
        return log[i + 1].timestamp.timeIntervalSince(log[i].timestamp)
    }

    @Test("429 with a decimal Retry-After: waits, re-requests the same page, then each page once")
    func decimalRetryAfter() async throws {
        try await H.with(items: 100, collections: [H.settingsCatalog]) { h in
            let path = H.settingsCatalog.versionedPath
            h.simulator.addFault(tenant: H.tenant, path: path, .init(.status(429, retryAfter: "0.3"), times: 1, page: 2))
            let summary = try await h.sync([H.settingsCatalog])
            #expect(summary.status == .success)
            #expect(summary.observed == 100)
            let log = h.requests(path)
            #expect(log.map(\.page) == [1, 2, 2, 3, 4])
            #expect(log.map(\.status) == [200, 429, 200, 200, 200])
            #expect(log[1].query == log[2].query)  // the same URL, verbatim
            #expect(try gapAfterFault(log) >= 0.3)
            #expect(h.progress.contains(.retry(type: H.settingsCatalog.key, status: 429, waitSeconds: 0.3, attempt: 1)))
            #expect(Set(try h.queries.items(tenant: H.tenant, policyType: H.settingsCatalog.key).map(\.externalID)) == h.simulatedIDs(H.settingsCatalog))
        }
    }

    @Test("429 with an HTTP-date Retry-After waits until that date")
    func httpDateRetryAfter() async throws {
        let retry = RetryPolicy(maxAttempts: 4, initialBackoff: .milliseconds(20), maxWait: .seconds(5), budget: .seconds(10))
        try await H.with(items: 60, collections: [H.settingsCatalog], retry: retry) { h in
            let path = H.settingsCatalog.versionedPath
            // A whole second 2 to 3 s ahead (HTTP-dates have whole seconds).
            let until = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.up) + 2)
            h.simulator.addFault(tenant: H.tenant, path: path, .init(.status(429, retryAfter: imfFixdate(until)), times: 1, page: 1))
            let summary = try await h.sync([H.settingsCatalog])
            #expect(summary.status == .success)
            let log = h.requests(path)
            #expect(log.map(\.page) == [1, 1, 2, 3])
            // The retry came no earlier than the date, and the wait was what the date asked for.
            #expect(log[2].timestamp.timeIntervalSince(until) >= -0.05)
            #expect(try gapAfterFault(log) >= until.timeIntervalSince(log[1].timestamp) - 0.05)
            let wait = try #require(h.progress.compactMap { if case .retry(_, 429, let w, 1) = $0 { w } else { nil } }.first)
            #expect(wait <= 3)
            if log[1].timestamp < until.addingTimeInterval(-0.1) { #expect(wait > 0) }  // unless a loaded machine was late
        }
    }

    @Test("a huge Retry-After is capped at maxWait")
    func hugeRetryAfterCapped() async throws {
        let retry = RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(10), maxWait: .milliseconds(200), budget: .seconds(5))
        try await H.with(items: 10, collections: [H.settingsCatalog], retry: retry) { h in
            let path = H.settingsCatalog.versionedPath
            h.simulator.addFault(tenant: H.tenant, path: path, .init(.status(429, retryAfter: "86400"), times: 1))
            let start = ContinuousClock.now
            let summary = try await h.sync([H.settingsCatalog])
            #expect(summary.status == .success)
            #expect(ContinuousClock.now - start < .seconds(30))  // nowhere near a day
            #expect(try gapAfterFault(h.requests(path)) >= 0.2)
            #expect(h.progress.contains(.retry(type: H.settingsCatalog.key, status: 429, waitSeconds: 0.2, attempt: 1)))
        }
    }

    @Test("503 without Retry-After: exponential backoff with full jitter, bounded")
    func unavailableBackoff() async throws {
        let retry = RetryPolicy(maxAttempts: 8, initialBackoff: .milliseconds(100), maxWait: .milliseconds(300), budget: .seconds(10))
        try await H.with(items: 30, collections: [H.settingsCatalog], retry: retry) { h in
            let path = H.settingsCatalog.versionedPath
            h.simulator.addFault(tenant: H.tenant, path: path, .init(.status(503), times: 5, page: 2))
            let summary = try await h.sync([H.settingsCatalog])
            #expect(summary.status == .success)
            #expect(h.requests(path).map(\.page) == [1, 2, 2, 2, 2, 2, 2])
            let waits: [(Double, Int)] = h.progress.compactMap {
                if case .retry(_, 503, let w, let a) = $0 { (w, a) } else { nil }
            }
            #expect(waits.map(\.1) == [1, 2, 3, 4, 5])
            for (wait, attempt) in waits {
                #expect(wait >= 0)
                #expect(wait <= min(0.3, 0.1 * pow(2, Double(attempt - 1))) + 1e-9)
            }
            #expect(Set(waits.map(\.0)).count > 1)  // jittered, not a fixed schedule
        }
    }

    @Test("504 and connection resets are retried on the same page")
    func gatewayTimeoutAndReset() async throws {
        try await H.with(items: 60, collections: [H.settingsCatalog]) { h in
            let path = H.settingsCatalog.versionedPath
            h.simulator.addFault(tenant: H.tenant, path: path, .init(.status(504, retryAfter: "0.05"), times: 1, page: 2))
            h.simulator.addFault(tenant: H.tenant, path: path, .init(.resetConnection, times: 2, page: 3))
            let summary = try await h.sync([H.settingsCatalog])
            #expect(summary.status == .success)
            #expect(summary.observed == 60)
            #expect(h.requests(path).map(\.page) == [1, 2, 2, 3, 3, 3])
        }
    }

    @Test("exhaustion leaves the type incomplete: unknown, never missing; a clean sync reports it missing")
    func exhaustionNeverDeletes() async throws {
        let retry = RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(10), maxWait: .milliseconds(50), budget: .seconds(2))
        try await H.with(items: 40, collections: [H.settingsCatalog, H.deviceConfiguration], retry: retry) { h in
            let types = [H.settingsCatalog, H.deviceConfiguration]
            let selection = H.selection(types)
            let first = try await h.sync(types)
            #expect(first.status == .success)

            // Delete one item, throttle its type to exhaustion.
            let path = H.settingsCatalog.versionedPath
            let victim = try #require(h.simulator.items(tenant: H.tenant, path: path)?[30]["id"]?.stringValue)
            #expect(h.simulator.removeItem(tenant: H.tenant, path: path, id: victim))
            h.simulator.addFault(tenant: H.tenant, path: path, .init(.status(429), times: nil, page: 2))
            let second = try await h.sync(types)
            #expect(second.status == .partial)
            #expect(second.errorCodes == [.graphThrottled])
            #expect(second.types[H.settingsCatalog.key] == .init(complete: false, count: 25, errorCode: .graphThrottled))
            #expect(second.types[H.deviceConfiguration.key]?.complete == true)
            #expect(h.requests(path).filter { $0.status == 429 }.count == 3)  // maxAttempts
            let report = try h.queries.missing(tenant: H.tenant, selection: selection)
            #expect(report.latestRun?.runID == second.runID)
            #expect(report.missing.isEmpty)
            #expect(report.unknown.map(\.externalID).contains(victim))
            #expect(report.lowConfidence)

            // Fault cleared: now it is missing.
            h.simulator.clearFaults()
            let third = try await h.sync(types)
            #expect(third.status == .success)
            let after = try h.queries.missing(tenant: H.tenant, selection: selection)
            #expect(after.missing.map(\.externalID) == [victim])
            #expect(after.unknown.isEmpty)
        }
    }

    @Test("the retry budget ends a type even when attempts remain")
    func budgetExhaustion() async throws {
        let retry = RetryPolicy(maxAttempts: 100, initialBackoff: .milliseconds(10), maxWait: .milliseconds(200), budget: .milliseconds(500))
        try await H.with(items: 10, collections: [H.settingsCatalog, H.deviceConfiguration], retry: retry) { h in
            h.simulator.addFault(tenant: H.tenant, path: H.settingsCatalog.versionedPath, .init(.status(503, retryAfter: "0.2"), times: nil))
            let start = ContinuousClock.now
            let summary = try await h.sync([H.settingsCatalog, H.deviceConfiguration])
            #expect(ContinuousClock.now - start < .seconds(30))
            #expect(summary.status == .partial)
            #expect(summary.types[H.settingsCatalog.key] == .init(complete: false, count: 0, errorCode: .graphUnavailable))
            #expect(summary.types[H.deviceConfiguration.key]?.complete == true)
            #expect(h.requests(H.settingsCatalog.versionedPath).count == 3)  // 0.2 + 0.2 waited, a third 0.2 would pass 0.5
        }
    }

    @Test("connection failures until exhaustion are graph_transport")
    func transportExhaustion() async throws {
        let retry = RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(10), maxWait: .milliseconds(50), budget: .seconds(2))
        try await H.with(items: 10, collections: [H.settingsCatalog, H.deviceConfiguration], retry: retry) { h in
            h.simulator.addFault(tenant: H.tenant, path: H.settingsCatalog.versionedPath, .init(.resetConnection, times: nil))
            let summary = try await h.sync([H.settingsCatalog, H.deviceConfiguration])
            #expect(summary.status == .partial)
            #expect(summary.types[H.settingsCatalog.key]?.errorCode == .graphTransport)
            #expect(summary.types[H.deviceConfiguration.key]?.complete == true)
        }
    }
}
