import CanonicalJSON
import Inventory

/// One page of a Graph collection: its items and the link to the next page.
struct GraphPage: Sendable {
    var items: [JSONValue]
    /// `@odata.nextLink`, verbatim; `nil` on the last page.
    var nextLink: String?

    /// Reads a 200 response body. Bodies that are not JSON objects, carry a Graph `error`
    /// object, lack `value` or have a non-array `value` or non-string nextLink are
    /// `graph_bad_response`; a Graph error's message is redacted by `redact` before it is cut.
    static func parse(_ body: [UInt8], type: PolicyType, page: Int, parser: JSONParser,
                      redact: (String) -> String) throws(SourceError) -> GraphPage {
        func bad(_ message: String) -> SourceError {
            SourceError(.graphBadResponse, policyType: type.key, "\(type.versionedPath) page \(page): \(message)")
        }
        let json: JSONValue
        do {
            json = try parser.parse(body)
        } catch {
            throw bad("the 200 response is not JSON (\(error.message) at byte \(error.offset); \(body.count) bytes)")
        }
        guard let object = json.objectValue else { throw bad("the 200 response is a JSON \(json.typeName), not an object") }
        if let error = object["error"], object["value"] == nil {
            throw bad("the 200 response is a Graph error\(GraphErrorBody.summary(error, redact: redact))")
        }
        guard let value = object["value"] else { throw bad("the 200 response has no value member") }
        guard let items = value.arrayValue else { throw bad("the value member is a \(value.typeName), not an array") }
        var next: String?
        if let link = object["@odata.nextLink"] {
            guard let s = link.stringValue, !s.isEmpty else {
                throw bad("@odata.nextLink is a \(link.typeName), not a URL string")
            }
            next = s
        }
        return GraphPage(items: items, nextLink: next)
    }
}
