import CanonicalJSON

/// Reads the `{"error":{"code","message"}}` objects Graph answers errors with.
enum GraphErrorBody {
    /// `: Code: message` from an error member, redacted by `redact` and then bounded to a few
    /// hundred characters, or empty.
    static func summary(_ error: JSONValue, redact: (String) -> String) -> String {
        format(code: error["code"]?.stringValue ?? "", message: error["message"]?.stringValue ?? "", redact: redact)
    }

    /// `: code: message` with only the message's first line, redacted by `redact` (before
    /// anything is cut, so that no part of a secret survives), then bounded to 300 characters;
    /// empty when both are empty.
    static func format(code: String, message: String, redact: (String) -> String) -> String {
        var message = message
        if let line = message.split(whereSeparator: \.isNewline).first { message = String(line) }
        message = redact(message)
        let code = redact(code)
        if message.count > 300 { message = String(message.prefix(300)) + "…" }
        let text = [code, message].filter { !$0.isEmpty }.joined(separator: ": ")
        return text.isEmpty ? "" : ": \(text)"
    }

    /// The summary of an error response body, or empty when it is not a Graph error.
    static func summary(body: [UInt8], redact: (String) -> String) -> String {
        guard body.count <= 1 << 20, let json = try? JSONParser().parse(body), let error = json["error"] else { return "" }
        return summary(error, redact: redact)
    }
}
