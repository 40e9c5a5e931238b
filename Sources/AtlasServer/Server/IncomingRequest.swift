import Foundation
import HTTPTypes
import Hummingbird

/// The parts of a request the server looks at, read and decoded.
struct IncomingRequest: Sendable {
    var method: HTTPRequest.Method
    /// The path as sent, without the query (for logs: never holds a query's secrets).
    var path: String
    /// The path's segments, percent-decoded.
    var segments: [String]
    /// Query parameters, percent-decoded, every occurrence in order.
    var query: [String: [String]]
    var headers: HTTPFields
    /// Cookies by name (the first of each).
    var cookies: [String: String]
    /// A form body (`application/x-www-form-urlencoded`), for the console's POSTs.
    var form: [String: [String]]

    init(_ request: Request) async {
        method = request.method
        path = request.uri.path.isEmpty ? "/" : request.uri.path
        segments = path.split(separator: "/", omittingEmptySubsequences: true).map { s in
            String(s).removingPercentEncoding ?? String(s)
        }
        query = Self.parseForm(request.uri.query ?? "")
        headers = request.headers
        var cookies: [String: String] = [:]
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let kv = part.split(separator: "=", maxSplits: 1)
                guard kv.count == 2 else { continue }
                let name = kv[0].trimmingCharacters(in: .whitespaces)
                if cookies[name] == nil { cookies[name] = kv[1].trimmingCharacters(in: .whitespaces) }
            }
        }
        self.cookies = cookies
        form = [:]
        if request.method == .post {
            var r = request
            if let buffer = try? await r.collectBody(upTo: 64 << 10) {
                form = Self.parseForm(String(decoding: buffer.readableBytesView, as: UTF8.self))
            }
        }
    }

    /// The first value of query parameter `name`.
    func parameter(_ name: String) -> String? { query[name]?.first }

    /// The first value of form field `name`.
    func field(_ name: String) -> String? { form[name]?.first }

    /// The bearer token of the `Authorization` header, if any.
    var bearerToken: String? {
        guard let value = headers[.authorization] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }

    /// Parses `a=1&b=x%20y` (also `+` as space).
    static func parseForm(_ text: String) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let plus = s.replacingOccurrences(of: "+", with: " ")
                return plus.removingPercentEncoding ?? plus
            }
            out[decode(parts[0]), default: []].append(parts.count > 1 ? decode(parts[1]) : "")
        }
        return out
    }
}
