import CanonicalJSON
import Foundation

/// The state behind an opaque `$skiptoken`: base64url of a small JSON object.
struct SkipToken: Equatable {
    var tenant: String
    var path: String
    var offset: Int
    var pageSize: Int
    var page: Int

    /// The opaque token text; a random salt makes every token unique.
    func encoded() -> String {
        let json: JSONValue = [
            "t": .string(tenant), "p": .string(path), "o": .number(Double(offset)),
            "s": .number(Double(pageSize)), "n": .number(Double(page)),
            "r": .string(String(UInt32.random(in: 0...UInt32.max), radix: 36)),
        ]
        return JSONBridge.encode(json).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes a token made by ``encoded()``; `nil` when it is not one.
    init?(encoded text: String) {
        var b64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard let data = Data(base64Encoded: b64), let json = try? JSONBridge.decode(data),
              let t = json["t"]?.stringValue, let p = json["p"]?.stringValue, let o = json["o"]?.intValue,
              let s = json["s"]?.intValue, let n = json["n"]?.intValue, o >= 0, s >= 1, n >= 1
        else { return nil }
        self.init(tenant: t, path: p, offset: o, pageSize: s, page: n)
    }

    init(tenant: String, path: String, offset: Int, pageSize: Int, page: Int) {
        self.tenant = tenant
        self.path = path
        self.offset = offset
        self.pageSize = pageSize
        self.page = page
    }
}
