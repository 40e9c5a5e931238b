package import AsyncHTTPClient
import CanonicalJSON
import Foundation
import Inventory
import Logging
import NIOCore
import NIOHTTP1

/// Obtains and caches app-only access tokens for one tenant with the OAuth2 client-credentials
/// flow (`POST {login}/{tenant}/oauth2/v2.0/token`, scope `https://graph.microsoft.com/.default`).
///
/// A token is reused until 60 seconds before it expires; concurrent callers share one token
/// request. After a 401, ``invalidate(_:)`` drops the token so the next ``token()`` fetches a
/// fresh one. Failures are `auth_failed` errors whose messages never contain the secret or a token.
package actor TokenProvider {
    /// The tenant id or domain, as in the token URL.
    package nonisolated let tenant: String
    let credentials: GraphCredentials
    let endpoints: GraphEndpoints
    let client: HTTPClient
    let retry: RetryPolicy
    let requestTimeout: Duration
    let secrets: SecretRegistry
    let logger: Logger

    /// Time before expiry at which a token is no longer used.
    static let refreshMargin: Double = 60
    /// How long a refusal by the token endpoint (bad client id or secret) is remembered.
    static let refusalMemory: Duration = .seconds(30)
    /// The longest a token request may take: the endpoint answers in well under a second.
    package static let longestRequest: Duration = .seconds(30)
    /// Attempts of a token request that got no response at all (the connection was refused,
    /// the host is unknown, TLS failed): one retry, for a connection lost by chance.
    static let transportAttempts = 2
    /// The longest wait before retrying a token request.
    static let longestWait: Duration = .seconds(5)
    /// The longest total wait of one token request's retries.
    static let longestBudget: Duration = .seconds(20)

    /// The retries of token requests, from the Graph requests' `policy`: at most 4 attempts,
    /// waits of at most 5 s and 20 s in all (a 429 or 5xx from the token endpoint), so a failing
    /// identity endpoint fails the run in seconds, not minutes.
    package static func retryPolicy(_ policy: RetryPolicy) -> RetryPolicy {
        RetryPolicy(maxAttempts: min(policy.maxAttempts, 4), initialBackoff: min(policy.initialBackoff, .seconds(1)),
                    maxWait: min(policy.maxWait, longestWait), budget: min(policy.budget, longestBudget))
    }

    private var cached: (token: String, refreshAt: ContinuousClock.Instant)?
    private var pending: Task<Issued, any Error>?
    private var refusal: (error: SourceError, at: ContinuousClock.Instant)?
    /// Whether a token was issued before: the next request is a refresh.
    private var issuedBefore = false

    struct Issued: Sendable {
        var token: String
        var expiresIn: Double
    }

    /// A provider for `tenant` that sends its token requests through `client`.
    package init(tenant: String, credentials: GraphCredentials, endpoints: GraphEndpoints = .production, client: HTTPClient,
                retry: RetryPolicy = TokenProvider.retryPolicy(RetryPolicy()), requestTimeout: Duration = .seconds(30)) {
        self.init(tenant: tenant, credentials: credentials, endpoints: endpoints, client: client, retry: retry,
                  requestTimeout: requestTimeout, secrets: SecretRegistry(clientSecret: credentials.clientSecret),
                  logger: Logger(label: "atlas.graph", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    init(tenant: String, credentials: GraphCredentials, endpoints: GraphEndpoints, client: HTTPClient, retry: RetryPolicy,
         requestTimeout: Duration, secrets: SecretRegistry, logger: Logger) {
        self.logger = logger
        self.tenant = tenant
        self.credentials = credentials
        self.endpoints = endpoints
        self.client = client
        self.retry = retry
        self.requestTimeout = requestTimeout
        self.secrets = secrets
    }

    /// A valid access token: the cached one, or a new one from the token endpoint.
    /// Throws `auth_failed`, or `cancelled` when the calling task is cancelled.
    package func token() async throws(SourceError) -> String {
        while true {
            if Task.isCancelled { throw SourceError(.cancelled, "the run was cancelled") }
            if let cached, ContinuousClock.now < cached.refreshAt { return cached.token }
            if let refusal, ContinuousClock.now - refusal.at < Self.refusalMemory { throw refusal.error }
            let task: Task<Issued, any Error>
            if let pending {
                task = pending
            } else {
                let (tenant, credentials, endpoints, client, retry, timeout, secrets, logger) =
                    (self.tenant, self.credentials, self.endpoints, self.client, self.retry, self.requestTimeout, self.secrets, self.logger)
                let refresh = issuedBefore
                logger.info(refresh ? "refreshing the access token" : "requesting an access token", metadata: ["tenant": "\(tenant)"])
                task = Task {
                    try await Self.fetch(tenant: tenant, credentials: credentials, endpoints: endpoints, client: client,
                                         retry: retry, timeout: timeout, secrets: secrets, logger: logger)
                }
                pending = task
            }
            let started = ContinuousClock.now
            let result = await withTaskCancellationHandler {
                await task.result
            } onCancel: {
                task.cancel()
            }
            if pending == task { pending = nil }
            switch result {
            case .success(let issued):
                secrets.addToken(issued.token)
                let margin = min(Self.refreshMargin, issued.expiresIn / 2)
                cached = (issued.token, started + .seconds(max(0, issued.expiresIn - margin)))
                refusal = nil
                issuedBefore = true
                logger.info("access token obtained", metadata: ["tenant": "\(tenant)", "expires_in_seconds": "\(Int(issued.expiresIn))"])
                return issued.token
            case .failure(let error):
                if Task.isCancelled { throw SourceError(.cancelled, "the run was cancelled") }
                guard let e = error as? TokenFailure else { continue }  // a shared request was cancelled: try again
                if e.permanent { refusal = (e.error, ContinuousClock.now) }
                throw e.error
            }
        }
    }

    /// Drops the cached token after Graph refused it. With `token`, only when that is still
    /// the cached one, so several requests failing with the same token refresh it once.
    package func invalidate(_ token: String? = nil) {
        if let token, cached?.token != token { return }
        if cached != nil { logger.info("Graph refused the access token (401): dropping it", metadata: ["tenant": "\(tenant)"]) }
        cached = nil
    }

    // MARK: Fetching

    struct TokenFailure: Error {
        var error: SourceError
        /// The endpoint refused the request (4xx): retrying soon will not help.
        var permanent: Bool
    }

    static func fetch(tenant: String, credentials: GraphCredentials, endpoints: GraphEndpoints, client: HTTPClient,
                      retry: RetryPolicy, timeout: Duration, secrets: SecretRegistry,
                      logger: Logger = Logger(label: "atlas.graph", factory: { _ in SwiftLogNoOpLogHandler() })) async throws -> Issued {
        func failure(_ message: String, permanent: Bool = false) -> TokenFailure {
            TokenFailure(error: SourceError(.authFailed, secrets.redact("tenant \(tenant): \(message)")), permanent: permanent)
        }
        guard !tenant.isEmpty, tenant.utf8.allSatisfy({ isUnreserved($0) }) else {
            throw failure("the tenant id must be a GUID or domain name", permanent: true)
        }
        let url = "\(endpoints.loginBaseURL)/\(tenant)/oauth2/v2.0/token"
        let form = formEncode([
            ("grant_type", "client_credentials"), ("client_id", credentials.clientID),
            ("client_secret", credentials.clientSecret), ("scope", "https://graph.microsoft.com/.default"),
        ])
        var waited: Double = 0
        var attempt = 0
        var transient: String?
        while true {
            attempt += 1
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.headers.add(name: "Accept", value: "application/json")
            request.body = .bytes(ByteBuffer(string: form))
            let response: GraphHTTP.Response
            do {
                response = try await GraphHTTP.send(request, client: client, timeout: timeout, maxBytes: 1 << 20)
            } catch {
                switch error {
                case .cancelled: throw CancellationError()
                case .tooLarge: throw failure("the token endpoint's response was too large")
                case .connection(let message):
                    // No answer at all: a wrong or unreachable endpoint is not retried for long.
                    let problem = "the token endpoint \(endpoints.loginBaseURL) could not be reached: \(message)"
                    guard attempt < min(retry.maxAttempts, Self.transportAttempts) else {
                        throw failure("\(problem) (after \(attempt) attempt\(attempt == 1 ? "" : "s"))")
                    }
                    transient = problem
                }
                response = GraphHTTP.Response(status: 0, headers: [:], body: [])
            }
            let retryAfter = response.headers.first(name: "Retry-After")
            var problem = transient ?? ""
            transient = nil
            if response.status != 0 {
                let status = response.status
                if status == 200 {
                    let issued = try parse(response.body, failure: failure)
                    secrets.addToken(issued.token)
                    return issued
                }
                problem = "the token endpoint answered \(status)\(aadError(response.body, redact: secrets.redact))"
                if !(status == 429 || status >= 500) { throw failure(problem, permanent: (400..<500).contains(status)) }
            }
            guard attempt < retry.maxAttempts else { throw failure("\(problem) (after \(attempt) attempts)") }
            let wait = retry.waitSeconds(retry: attempt - 1, retryAfter: retryAfter)
            guard waited + wait <= retry.budget.inSeconds else { throw failure("\(problem) (retry budget spent)") }
            waited += wait
            var metadata: Logger.Metadata = ["tenant": "\(tenant)", "attempt": "\(attempt)", "delay_seconds": "\(wait)",
                                             "problem": "\(secrets.redact(problem))"]
            if response.status != 0 { metadata["status"] = "\(response.status)" }
            if let retryAfter { metadata["retry_after"] = "\(secrets.redact(String(retryAfter.prefix(64))))" }
            logger.info("retrying the token request", metadata: metadata)
            try await Task.sleep(for: .seconds(wait))
        }
    }

    static func parse(_ body: [UInt8], failure: (String, Bool) -> TokenFailure) throws -> Issued {
        // Never quote the body: it holds the token.
        guard let json = try? JSONParser().parse(body), json.objectValue != nil else {
            throw failure("the token response is not a JSON object", false)
        }
        guard let token = json["access_token"]?.stringValue, !token.isEmpty,
              token.utf8.allSatisfy({ $0 > 32 && $0 < 127 })
        else { throw failure("the token response has no usable access_token", false) }
        if let type = json["token_type"]?.stringValue, type.lowercased() != "bearer" {
            throw failure("the token response has token_type \(type.prefix(20)), not Bearer", false)
        }
        let expires = json["expires_in"]?.doubleValue ?? json["expires_in"]?.stringValue.flatMap(Double.init) ?? 3599
        return Issued(token: token, expiresIn: max(0, min(expires, 86_400)))
    }

    /// `: error: description` from an AAD error body, redacted and then bounded, or empty.
    static func aadError(_ body: [UInt8], redact: (String) -> String) -> String {
        guard let json = try? JSONParser().parse(body) else { return "" }
        return GraphErrorBody.format(code: json["error"]?.stringValue ?? "", message: json["error_description"]?.stringValue ?? "",
                                     redact: redact)
    }

    static func isUnreserved(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45 || c == 46 || c == 95 || c == 126
    }

    /// `application/x-www-form-urlencoded`: every byte but unreserved ones percent-encoded.
    static func formEncode(_ fields: [(String, String)]) -> String {
        let hex = Array("0123456789ABCDEF")
        func encode(_ s: String) -> String {
            var out = ""
            for c in s.utf8 {
                if isUnreserved(c) {
                    out.unicodeScalars.append(Unicode.Scalar(c))
                } else {
                    out += "%" + String(hex[Int(c >> 4)]) + String(hex[Int(c & 15)])
                }
            }
            return out
        }
        return fields.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }
}
