import CanonicalJSON
import HTTPTypes
import Hummingbird
import NIOCore

/// Building responses.
enum Reply {
    /// Canonical JSON, as the CLI's `--json` prints it (with its newline).
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        let text = ((try? CanonicalJSON.serialize(value)) ?? Array("null".utf8)) + [10]
        return bytes(text, contentType: "application/json", status: status)
    }

    /// An RFC 9457 problem document.
    static func problem(_ p: APIProblem) -> Response {
        var r = json(p.json, status: .init(code: p.status))
        r.headers[.contentType] = "application/problem+json"
        if p.code == .unauthorized { r.headers[.wwwAuthenticate] = "Bearer realm=\"atlas\"" }
        return r
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var r = bytes(Array(text.utf8), contentType: "text/html; charset=utf-8", status: status)
        r.headers[.contentSecurityPolicy] = "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'"
        r.headers[.xContentTypeOptions] = "nosniff"
        r.headers[.cacheControl] = "no-store"
        return r
    }

    static func bytes(_ bytes: [UInt8], contentType: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.contentLength] = String(bytes.count)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `303 See Other` to `location`, with `cookies` set.
    static func redirect(_ location: String, cookies: [String] = []) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        headers[.contentLength] = "0"
        for c in cookies { headers.append(HTTPField(name: .setCookie, value: c)) }
        return Response(status: .seeOther, headers: headers)
    }
}
