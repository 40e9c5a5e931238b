package import CanonicalJSON

/// A fault injected into one tenant's collection.
///
/// JSON form (control endpoint `POST /_sim/faults`, field `fault`):
/// `{"kind":"status","status":429,"retry_after":"1.5","times":2,"page":2}`.
/// `times` absent or `null` means forever; `page` (1-based) absent means every page.
package struct SimulatedFault: Sendable, Hashable {
    /// What the fault does.
    package var kind: Kind
    /// How many times the fault fires; `nil` fires forever.
    package var times: Int?
    /// The 1-based page the fault fires on; `nil` fires on any page.
    package var page: Int?

    /// Creates a fault.
    package init(_ kind: Kind, times: Int? = 1, page: Int? = nil) {
        self.kind = kind
        self.times = times
        self.page = page
    }

    /// The fault's JSON form.
    package var jsonValue: JSONValue {
        var o = kind.jsonMembers
        o["times"] = times.map { .number(Double($0)) } ?? .null
        o["page"] = page.map { .number(Double($0)) } ?? .null
        return .object(o)
    }

    /// Reads a fault from its JSON form.
    package init(json: JSONValue) throws {
        guard json.objectValue != nil else { throw SimulatorError.invalidFault("fault must be an object") }
        let kind = try Kind(json: json)
        var times: Int? = 1
        if let t = json["times"] {
            if t.isNull || t.stringValue == "forever" {
                times = nil
            } else if let n = t.intValue, n >= 0 {
                times = n
            } else {
                throw SimulatorError.invalidFault("times must be a non-negative integer, null or \"forever\"")
            }
        }
        var page: Int?
        if let p = json["page"], !p.isNull {
            guard let n = p.intValue, n >= 1 else { throw SimulatorError.invalidFault("page must be an integer >= 1") }
            page = n
        }
        self.init(kind, times: times, page: page)
    }
}
