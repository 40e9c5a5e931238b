import AsyncHTTPClient
import CanonicalJSON
import Foundation
import Inventory
import Logging
import NIOCore
import NIOHTTP1

/// Reads every page of one policy type's collection for one tenant and hands them to the sink.
///
/// Follows `@odata.nextLink` verbatim; refuses links to another origin (before any request),
/// links seen before, and pages whose items were all delivered before (a link that leads back
/// to an earlier page under a fresh skip token). Retries 429, 503, 504 and connection failures on the same URL, so a
/// page is neither lost nor delivered twice.
struct GraphCollectionReader {
    /// How reading ended when it did not complete.
    struct Failure: Error {
        var error: SourceError
        /// Whether the source must still record the error (the sink already noted its own).
        var record: Bool
    }

    let type: PolicyType
    let endpoints: GraphEndpoints
    let client: HTTPClient
    let provider: TokenProvider
    let options: GraphSourceOptions
    let secrets: SecretRegistry
    let sink: any SourceSink
    let logger: Logger

    var parser: JSONParser {
        JSONParser(limits: JSONLimits(maxDepth: options.maxJSONDepth, maxStringBytes: options.maxResponseBytes,
                                      maxInputBytes: options.maxResponseBytes))
    }

    /// Reads the whole collection; `nil` when every page was read.
    func read() async -> Failure? {
        let parser = self.parser
        var url = endpoints.graphBaseURL + type.versionedPath
        var seen: Set<String> = [url]
        var seenIDs: Set<String> = []
        var pages = 0
        var waited: Double = 0
        while true {
            if Task.isCancelled { return cancelled() }
            guard pages < options.maxPagesPerType else {
                return fail(.graphPagingLoop, "paging went past \(options.maxPagesPerType) pages; stopped")
            }
            let body: [UInt8]
            switch await fetch(url, page: pages + 1, waited: &waited) {
            case .success(let b): body = b
            case .failure(let f): return f
            }
            pages += 1
            let page: GraphPage
            do {
                page = try GraphPage.parse(body, type: type, page: pages, parser: parser, redact: secrets.redact)
            } catch {
                return Failure(error: error, record: true)
            }
            let ids = page.ids
            if pages > 1, !ids.isEmpty, ids.allSatisfy({ seenIDs.contains($0) }) {
                return fail(.graphPagingLoop, "page \(pages) repeats the items of an earlier page; stopped")
            }
            for id in ids { seenIDs.insert(id) }
            if !page.items.isEmpty {
                do {
                    let observations = try ObservationPage(encoding: page.canonical, objects: page.items, with: sink.observationEncoder(for: type))
                    try await sink.receive(observations, of: type)
                } catch let e as SourceError {
                    return Failure(error: e, record: false)
                } catch {
                    return Failure(error: SourceError(.internalError, policyType: type.key, "the sink refused a page: \(error)"), record: true)
                }
            }
            await sink.progress(.page(type: type.key, items: page.items.count))
            guard let next = page.nextLink else { return nil }
            guard let nextURL = URL(string: next), let origin = URLOrigin(nextURL) else {
                return fail(.graphBadResponse, "page \(pages): @odata.nextLink is not an http(s) URL; not followed")
            }
            guard origin == endpoints.graphOrigin, nextURL.user == nil, nextURL.password == nil else {
                return fail(.graphForeignNextLink,
                            "page \(pages): @odata.nextLink points to \(origin), not \(endpoints.graphOrigin); not followed")
            }
            guard seen.insert(next).inserted else {
                return fail(.graphPagingLoop, "page \(pages): @odata.nextLink repeats an earlier link; stopped")
            }
            url = next
        }
    }

    private func cancelled() -> Failure {
        Failure(error: SourceError(.cancelled, policyType: type.key, "the run was cancelled"), record: false)
    }

    private func fail(_ code: InventoryErrorCode, _ message: String) -> Failure {
        Failure(error: SourceError(code, policyType: type.key, secrets.redact("\(type.versionedPath) \(message)")), record: true)
    }

    /// GETs `url`, retrying as the policy allows; the body of its 2xx response.
    private func fetch(_ url: String, page: Int, waited: inout Double) async -> Result<[UInt8], Failure> {
        let retry = options.retry
        var attempt = 0
        var refreshed = false
        let what = "page \(page)"
        while true {
            if Task.isCancelled { return .failure(cancelled()) }
            let token: String
            do {
                token = try await provider.token()
            } catch {
                if error.code == .cancelled { return .failure(cancelled()) }
                return .failure(Failure(error: SourceError(error.code, policyType: type.key, error.message), record: true))
            }
            attempt += 1
            var request = HTTPClientRequest(url: url)
            request.method = .GET
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Accept", value: "application/json")
            let code: InventoryErrorCode
            let status: Int
            let retryAfter: String?
            let problem: String
            do {
                let response = try await GraphHTTP.send(request, client: client, timeout: options.requestTimeout,
                                                         maxBytes: options.maxResponseBytes)
                status = response.status
                let detail = GraphErrorBody.summary(body: response.body, redact: secrets.redact)
                switch status {
                case 200..<300:
                    return .success(response.body)
                case 401:
                    if !refreshed {
                        refreshed = true
                        attempt -= 1
                        await provider.invalidate(token)
                        continue
                    }
                    return .failure(fail(.graphUnauthorized, "\(what): 401 even with a fresh token\(detail)"))
                case 403:
                    return .failure(fail(.graphForbidden, "\(what): 403\(detail)"))
                case 404:
                    return .failure(fail(.graphNotFound, "\(what): 404\(detail)"))
                case 429:
                    code = .graphThrottled
                case 503, 504:
                    code = .graphUnavailable
                case 500..<600:
                    return .failure(fail(.graphUnavailable, "\(what): \(status)\(detail)"))
                default:
                    return .failure(fail(.graphBadResponse, "\(what): unexpected status \(status)\(detail)"))
                }
                retryAfter = response.headers.first(name: "Retry-After")
                problem = "\(what): \(status)\(detail)"
            } catch {
                switch error {
                case .cancelled:
                    return .failure(cancelled())
                case .tooLarge(let limit):
                    return .failure(fail(.graphBadResponse, "\(what): the response is larger than \(limit) bytes"))
                case .connection(let message):
                    code = .graphTransport
                    status = 0
                    retryAfter = nil
                    problem = "\(what): \(message)"
                }
            }
            guard attempt < retry.maxAttempts else {
                return .failure(fail(code, "\(problem); gave up after \(attempt) attempts"))
            }
            let wait = retry.waitSeconds(retry: attempt - 1, retryAfter: retryAfter)
            guard waited + wait <= retry.budget.inSeconds else {
                return .failure(fail(code, "\(problem); gave up after \(attempt) attempts: waiting \(format(wait)) s more would pass the type's retry budget of \(format(retry.budget.inSeconds)) s"))
            }
            waited += wait
            logRetry(problem: problem, code: code, status: status, retryAfter: retryAfter, wait: wait, attempt: attempt)
            await sink.progress(.retry(type: type.key, status: status, waitSeconds: wait, attempt: attempt))
            do {
                try await Task.sleep(for: .seconds(wait))
            } catch {
                return .failure(cancelled())
            }
        }
    }

    /// One `info` line per retry: a throttling wait (429/503, with its Retry-After) or another retry.
    private func logRetry(problem: String, code: InventoryErrorCode, status: Int, retryAfter: String?, wait: Double, attempt: Int) {
        var metadata: Logger.Metadata = [
            "policy_type": "\(type.key)", "collection": "\(type.versionedPath)", "attempt": "\(attempt)",
            "code": "\(code.rawValue)", "delay_seconds": "\(format(wait))",
            "problem": "\(secrets.redact(problem))",
        ]
        if status != 0 { metadata["status"] = "\(status)" }
        if let retryAfter { metadata["retry_after"] = "\(secrets.redact(String(retryAfter.prefix(64))))" }
        if status == 429 || status == 503 {
            logger.info("throttled: waiting before retrying", metadata: metadata)
        } else {
            logger.info("retrying after a failed request", metadata: metadata)
        }
    }

    private func format(_ seconds: Double) -> String {
        String(Double((seconds * 1000).rounded()) / 1000)
    }
}
