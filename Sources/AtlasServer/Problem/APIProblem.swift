package import CanonicalJSON

/// An RFC 9457 problem document (`application/problem+json`): every error the API answers.
package struct APIProblem: Error, Sendable, Hashable, CustomStringConvertible {
    package var code: ProblemCode
    /// What exactly was wrong with this request (RFC 9457 `detail`).
    package var detail: String

    package init(_ code: ProblemCode, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    package var status: Int { code.status }

    /// `{"code","detail","status","title","type"}`.
    package var json: JSONValue {
        .object([
            "type": .string(code.typeURI), "title": .string(code.title), "status": .number(Double(code.status)),
            "detail": .string(detail), "code": .string(code.rawValue),
        ])
    }

    package var description: String { "\(code.rawValue): \(detail)" }

    /// The 404 for a tenant the store lacks or the token may not see: the same answer for both.
    package static func tenantNotFound(_ tenant: String) -> APIProblem {
        APIProblem(.tenantNotFound, "no tenant \(tenant.prefix(256)) is visible to this token")
    }
}
