import CanonicalJSON

/// Reads the `{"error":{"code","message"}}` objects Graph answers errors with.
enum GraphErrorBody {
    /// `: Code: message` from an error member, bounded to a few hundred characters, or empty.
    static func summary(_ error: JSONValue) -> String {
        format(code: error["code"]?.stringValue ?? "", message: error["message"]?.stringValue ?? "")
    }

    /// `: code: message` with only the message's first line, bounded to 300 characters, or
    /// empty when both are empty.
    static func format(code: String, message: String) -> String {
        var message = message
        if let line = message.split(whereSeparator: \.isNewline).first { message = String(line) }
        if message.count > 300 { message = String(message.prefix(300)) + "…" }
        let text = [code, message].filter { !$0.isEmpty }.joined(separator: ": ")
        return text.isEmpty ? "" : ": \(text)"
    }

    /// The summary of an error response body, or empty when it is not a Graph error.
    static func summary(body: [UInt8]) -> String {
        guard body.count <= 1 << 20, let json = try? JSONParser().parse(body), let error = json["error"] else { return "" }
        return summary(error)
    }
}
