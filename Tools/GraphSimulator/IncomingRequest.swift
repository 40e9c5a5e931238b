import Foundation
import HTTPTypes
import Hummingbird

/// The parts of an HTTP request the simulator looks at, already read and decoded.
struct IncomingRequest: Sendable {
    var method: String
    /// The path without the query, trailing slashes removed.
    var path: String
    /// The raw query string, if any.
    var rawQuery: String?
    /// Query parameters, percent-decoded; the first occurrence wins.
    var query: [String: String]
    var host: String?
    var authorization: String?
    var clientRequestID: String?
    var body: Data

    init(_ request: Request, maxBody: Int = 64 << 20) async {
        method = request.method.rawValue
        path = GraphPath.normalize(request.uri.path)
        let q = request.uri.query
        rawQuery = (q?.isEmpty ?? true) ? nil : q
        query = Self.parseForm(rawQuery ?? "")
        host = request.head.authority
        authorization = request.headers[.authorization]
        clientRequestID = HTTPField.Name("client-request-id").flatMap { request.headers[$0] }
        var r = request
        if let buffer = try? await r.collectBody(upTo: maxBody) {
            body = Data(buffer.readableBytesView)
        } else {
            body = Data()
        }
    }

    /// Parses `a=1&b=x%20y` (also `+` as space) into a dictionary.
    static func parseForm(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let plus = s.replacingOccurrences(of: "+", with: " ")
                return plus.removingPercentEncoding ?? plus
            }
            let key = decode(parts[0])
            if out[key] == nil { out[key] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return out
    }
}
