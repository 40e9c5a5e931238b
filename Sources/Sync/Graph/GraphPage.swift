import CanonicalJSON
import Inventory

/// One page of a Graph collection: its items as canonical JSON and the link to the next page.
struct GraphPage: Sendable {
    /// The page's canonical JSON (RFC 8785), which holds every item's canonical bytes.
    var canonical: [UInt8]
    /// Each item of `value`, in order, as a range of ``canonical``.
    var items: [Range<Int>]
    /// `@odata.nextLink`, verbatim; `nil` on the last page.
    var nextLink: String?

    /// The `id` of each item that is an object with a string `id`, in order.
    var ids: [String] {
        canonical.withUnsafeBytes { b in
            items.compactMap { r -> String? in
                guard b[r.lowerBound] == UInt8(ascii: "{") else { return nil }
                var scanner = JSONObjectScanner(UnsafeRawBufferPointer(rebasing: b[r]))
                while let m = scanner.next() {
                    let item = scanner.bytes
                    guard m.key.count == 2, JSONObjectScanner.keyEquals(item, m.key, "id") else { continue }
                    return item[m.value.lowerBound] == UInt8(ascii: "\"") ? JSONObjectScanner.string(item, m.value) : nil
                }
                return nil
            }
        }
    }

    /// Reads a 200 response body. Bodies that are not JSON objects, carry a Graph `error`
    /// object, lack `value` or have a non-array `value` or non-string nextLink are
    /// `graph_bad_response`; a Graph error's message is redacted by `redact` before it is cut.
    ///
    /// The body is transcoded to its canonical form in one pass, without a ``JSONValue`` tree;
    /// the items are read from that form. A body that does not read as a page is parsed into a
    /// tree to name what is wrong.
    static func parse(_ body: [UInt8], type: PolicyType, page: Int, parser: JSONParser,
                      redact: (String) -> String) throws(SourceError) -> GraphPage {
        var canonical: [UInt8] = []
        canonical.reserveCapacity(body.count)
        let transcoded = body.withUnsafeBytes { b in
            (try? CanonicalJSON.canonicalize(b, limits: parser.limits, into: &canonical)) != nil
        }
        if transcoded, let fast = read(canonical: canonical) { return fast }
        return try parseTree(body, type: type, page: page, parser: parser, redact: redact)
    }

    /// The page in the canonical bytes of a body; `nil` when they do not read as a page (not
    /// an object, no array `value`, or an `@odata.nextLink` that is not a non-empty string).
    static func read(canonical: [UInt8]) -> GraphPage? {
        canonical.withUnsafeBytes { b -> GraphPage? in
            guard b.first == UInt8(ascii: "{") else { return nil }
            var value: Range<Int>?, next: String?
            var scanner = JSONObjectScanner(b)
            while let m = scanner.next() {
                if JSONObjectScanner.keyEquals(b, m.key, "value") {
                    value = m.value
                } else if JSONObjectScanner.keyEquals(b, m.key, "@odata.nextLink") {
                    guard b[m.value.lowerBound] == UInt8(ascii: "\"") else { return nil }
                    let s = JSONObjectScanner.string(b, m.value)
                    guard !s.isEmpty else { return nil }
                    next = s
                }
            }
            guard let value, b[value.lowerBound] == UInt8(ascii: "[") else { return nil }
            // Canonical JSON has no whitespace: elements are separated by single commas.
            var items: [Range<Int>] = []
            var i = value.lowerBound + 1
            let close = value.upperBound - 1
            while i < close {
                let end = JSONObjectScanner.skipValue(b, from: i)
                guard end > i, end <= close else { return nil }
                items.append(i..<end)
                i = end
                if i < close {
                    guard b[i] == UInt8(ascii: ",") else { return nil }
                    i += 1
                }
            }
            return GraphPage(canonical: canonical, items: items, nextLink: next)
        }
    }

    /// Reads the body through a ``JSONValue`` tree (the general path, which names every problem).
    static func parseTree(_ body: [UInt8], type: PolicyType, page: Int, parser: JSONParser,
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
        var canonical: [UInt8] = []
        var ranges: [Range<Int>] = []
        for item in items {
            let start = canonical.count
            do { try CanonicalJSON.write(item, into: &canonical) } catch {
                throw SourceError(.graphItemInvalid, policyType: type.key,
                                  redact("\(type.versionedPath) page \(page) has an item with no canonical form: \(error)"))
            }
            ranges.append(start..<canonical.count)
        }
        return GraphPage(canonical: canonical, items: ranges, nextLink: next)
    }
}
