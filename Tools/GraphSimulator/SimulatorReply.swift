import CanonicalJSON
import Foundation
import HTTPTypes
import Hummingbird

/// A response before it becomes a Hummingbird `Response`, with what the log needs.
struct SimulatorReply: Sendable {
    static let graphContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

    var status: Int
    var headers: [(String, String)] = []
    var body: Data = Data()
    /// Close the connection instead of answering.
    var closeConnection = false
    /// Tenant, page and fault for the request log.
    var tenant: String?
    var page: Int?
    var fault: String?

    /// A JSON reply.
    static func json(_ status: Int, _ value: JSONValue, contentType: String = graphContentType) -> SimulatorReply {
        SimulatorReply(status: status, headers: [("Content-Type", contentType)], body: JSONBridge.encode(value))
    }

    /// A Graph error reply: `{"error":{"code":…,"message":…,"innerError":{…}}}`.
    static func graphError(_ status: Int, code: String, message: String) -> SimulatorReply {
        json(status, graphErrorBody(code: code, message: message))
    }

    /// A Graph error body.
    static func graphErrorBody(code: String, message: String) -> JSONValue {
        let iso = ISO8601DateFormatter().string(from: Date())
        return [
            "error": [
                "code": .string(code),
                "message": .string(message),
                "innerError": [
                    "date": .string(iso),
                    "request-id": .string(UUID().uuidString.lowercased()),
                    "client-request-id": .string(UUID().uuidString.lowercased()),
                ],
            ],
        ]
    }

    /// An Entra ID (AAD) token-endpoint error reply.
    static func aadError(_ status: Int, error: String, description: String) -> SimulatorReply {
        json(status, [
            "error": .string(error),
            "error_description": .string(description),
            "error_codes": .array([.number(Double(Int(description.dropFirst(6).prefix(while: \.isNumber)) ?? 0))]),
            "timestamp": .string(ISO8601DateFormatter().string(from: Date())),
            "trace_id": .string(UUID().uuidString.lowercased()),
            "correlation_id": .string(UUID().uuidString.lowercased()),
        ], contentType: "application/json; charset=utf-8")
    }

    /// The Hummingbird response.
    func response() -> Response {
        var fields = HTTPFields()
        for (name, value) in headers {
            if let n = HTTPField.Name(name) { fields.append(HTTPField(name: n, value: value)) }
        }
        fields[.contentLength] = String(body.count)
        return Response(
            status: HTTPResponse.Status(code: status),
            headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
