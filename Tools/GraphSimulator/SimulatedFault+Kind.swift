package import CanonicalJSON
import Foundation

extension SimulatedFault {
    /// The behaviours a fault can inject.
    package enum Kind: Sendable, Hashable {
        /// Answer with `status` (429, 500, 503, 504, …), a Graph error body and, when given,
        /// a `Retry-After` header with exactly this value (`"1"`, `"0.25"` or an HTTP-date).
        case status(Int, retryAfter: String? = nil)
        /// Answer 403 with a Graph `Forbidden` error.
        case forbidden
        /// Answer 401 with a Graph `InvalidAuthenticationToken` error, whatever the token.
        case unauthorized
        /// Answer 200 with an HTML body.
        case nonJSON
        /// Answer 200 with a JSON page that has no `value` member.
        case missingValue
        /// Answer the page normally but drop `id` from its first item.
        case itemWithoutId
        /// Wait `seconds` before answering normally.
        case slow(seconds: Double)
        /// Answer the page normally with `@odata.nextLink` set to `url` (another host).
        case foreignNextLink(String)
        /// Answer the page normally with a nextLink that leads back to the same page forever.
        case endlessNextLink
        /// Answer 200 with a Graph error body instead of a page.
        case errorBody200(code: String = "InternalServerError", message: String = "Simulated error in a 200 response.")
        /// Close the connection without answering.
        case resetConnection
        /// Answer with `status` and exactly this JSON body (an identity-platform or Graph error
        /// that quotes what it was sent, say).
        case reply(status: Int, body: JSONValue)

        /// The snake-case name used in JSON, e.g. `foreign_next_link`.
        package var name: String {
            switch self {
            case .status: "status"
            case .forbidden: "forbidden"
            case .unauthorized: "unauthorized"
            case .nonJSON: "non_json"
            case .missingValue: "missing_value"
            case .itemWithoutId: "item_without_id"
            case .slow: "slow"
            case .foreignNextLink: "foreign_next_link"
            case .endlessNextLink: "endless_next_link"
            case .errorBody200: "error_body_200"
            case .resetConnection: "reset_connection"
            case .reply: "reply"
            }
        }

        var jsonMembers: [String: JSONValue] {
            var o: [String: JSONValue] = ["kind": .string(name)]
            switch self {
            case .status(let status, let retryAfter):
                o["status"] = .number(Double(status))
                o["retry_after"] = retryAfter.map(JSONValue.string) ?? .null
            case .slow(let seconds):
                o["seconds"] = .number(seconds)
            case .foreignNextLink(let url):
                o["url"] = .string(url)
            case .errorBody200(let code, let message):
                o["code"] = .string(code)
                o["message"] = .string(message)
            case .reply(let status, let body):
                o["status"] = .number(Double(status))
                o["body"] = body
            default:
                break
            }
            return o
        }

        /// Reads the kind from a fault object; kind names are matched ignoring case and underscores.
        init(json: JSONValue) throws {
            guard let raw = json["kind"]?.stringValue else { throw SimulatorError.invalidFault("missing kind") }
            let name = raw.lowercased().replacingOccurrences(of: "_", with: "").replacingOccurrences(of: "-", with: "")
            switch name {
            case "status":
                guard let status = json["status"]?.intValue, (100...599).contains(status) else {
                    throw SimulatorError.invalidFault("status fault needs an integer status")
                }
                var retryAfter: String?
                if let r = json["retry_after"] ?? json["retryAfter"] {
                    if let s = r.stringValue {
                        retryAfter = s
                    } else if let d = r.doubleValue {
                        retryAfter = d.rounded() == d ? String(Int(d)) : String(d)
                    }
                }
                self = .status(status, retryAfter: retryAfter)
            case "forbidden": self = .forbidden
            case "unauthorized": self = .unauthorized
            case "nonjson": self = .nonJSON
            case "missingvalue": self = .missingValue
            case "itemwithoutid": self = .itemWithoutId
            case "slow":
                guard let s = json["seconds"]?.doubleValue, s >= 0 else {
                    throw SimulatorError.invalidFault("slow fault needs seconds >= 0")
                }
                self = .slow(seconds: s)
            case "foreignnextlink":
                guard let url = json["url"]?.stringValue else {
                    throw SimulatorError.invalidFault("foreign_next_link fault needs url")
                }
                self = .foreignNextLink(url)
            case "endlessnextlink": self = .endlessNextLink
            case "errorbody200":
                self = .errorBody200(
                    code: json["code"]?.stringValue ?? "InternalServerError",
                    message: json["message"]?.stringValue ?? "Simulated error in a 200 response.")
            case "resetconnection": self = .resetConnection
            case "reply":
                guard let status = json["status"]?.intValue, (100...599).contains(status), let body = json["body"] else {
                    throw SimulatorError.invalidFault("reply fault needs an integer status and a body")
                }
                self = .reply(status: status, body: body)
            default:
                throw SimulatorError.invalidFault("unknown kind \(raw)")
            }
        }
    }
}
