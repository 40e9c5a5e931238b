import AsyncHTTPClient
import CanonicalJSON
import Foundation
import NIOCore
import NIOHTTP1
@testable import GraphSimulator

/// A small HTTP client over AsyncHTTPClient for talking to the simulator.
enum HTTP {
    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: Data

        var text: String { String(decoding: body, as: UTF8.self) }
        /// The body as JSON, or `nil` when it is not JSON.
        var json: JSONValue? { try? JSONBridge.decode(body) }
    }

    static func request(
        _ method: HTTPMethod, _ url: String, token: String? = nil, headers: [(String, String)] = [],
        body: Data? = nil, contentType: String = "application/json"
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 64 << 20)
        var h: [String: String] = [:]
        for header in response.headers { h[header.name.lowercased()] = header.value }
        return Reply(status: Int(response.status.code), headers: h, body: Data(buffer.readableBytesView))
    }

    static func get(_ url: String, token: String? = nil) async throws -> Reply {
        try await request(.GET, url, token: token)
    }

    static func post(_ url: String, json: JSONValue) async throws -> Reply {
        try await request(.POST, url, body: JSONBridge.encode(json))
    }

    static func delete(_ url: String) async throws -> Reply {
        try await request(.DELETE, url)
    }

    static func postForm(_ url: String, _ fields: [(String, String)]) async throws -> Reply {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let form = fields.map { k, v in
            "\(k.addingPercentEncoding(withAllowedCharacters: allowed)!)=\(v.addingPercentEncoding(withAllowedCharacters: allowed)!)"
        }.joined(separator: "&")
        return try await request(.POST, url, body: Data(form.utf8), contentType: "application/x-www-form-urlencoded")
    }

    /// Gets a token for `tenant` through the token endpoint.
    static func token(_ base: String, tenant: SimulatedTenant) async throws -> String {
        let reply = try await postForm("\(base)/\(tenant.id)/oauth2/v2.0/token", [
            ("grant_type", "client_credentials"), ("client_id", tenant.clientID),
            ("client_secret", tenant.clientSecret), ("scope", "https://graph.microsoft.com/.default"),
        ])
        guard reply.status == 200, let token = reply.json?["access_token"]?.stringValue else {
            throw TestFailure("token request failed: \(reply.status) \(reply.text)")
        }
        return token
    }

    /// Follows `@odata.nextLink` verbatim from `url`; returns every page body.
    static func allPages(_ url: String, token: String, limit: Int = 100) async throws -> [JSONValue] {
        var pages: [JSONValue] = []
        var next: String? = url
        while let link = next {
            guard pages.count < limit else { throw TestFailure("more than \(limit) pages") }
            let reply = try await get(link, token: token)
            guard reply.status == 200, let json = reply.json else {
                throw TestFailure("page \(pages.count + 1) failed: \(reply.status) \(reply.text)")
            }
            pages.append(json)
            next = json["@odata.nextLink"]?.stringValue
        }
        return pages
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
