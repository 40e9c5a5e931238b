import Foundation

/// Small helpers for the console's server-rendered HTML.
enum HTML {
    /// `text` escaped for element content and quoted attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// `text` percent-encoded as one path segment.
    static func segment(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// `key=value&…` percent-encoded, for links.
    static func query(_ pairs: [(String, String?)]) -> String {
        let kept = pairs.compactMap { k, v in v.map { "\(segment(k))=\(segment($0))" } }
        return kept.isEmpty ? "" : "?" + kept.joined(separator: "&")
    }

    /// A whole page: skip link, header with the navigation landmark, `main`, footer.
    static func page(title: String, signedIn: ConsoleViewer?, tenant: String? = nil, current: String = "", body: String) -> String {
        var nav = ""
        if let signedIn {
            var links: [(String, String, String)] = [("/console", "Tenants", "tenants")]
            if let tenant {
                let t = "/console/tenants/\(segment(tenant))"
                links += [(t, "Inventory", "inventory"), (t + "/runs", "Runs", "runs"), (t + "/missing", "Missing", "missing"),
                          (t + "/changes", "Changes", "changes")]
            }
            links.append(("/console/tail" + (tenant.map { query([("tenant", $0)]) } ?? ""), "Live tail", "tail"))
            nav = """
                <nav aria-label="Main"><ul>\(links.map { href, label, key in
                    "<li><a href=\"\(escape(href))\"\(key == current ? " aria-current=\"page\"" : "")>\(label)</a></li>"
                }.joined())</ul></nav>
                <form class="signout" method="post" action="/console/sign-out">
                <input type="hidden" name="csrf" value="\(escape(signedIn.csrf))">
                <span class="who">Signed in with token <strong>\(escape(signedIn.tokenName))</strong></span>
                <button type="submit">Sign out</button></form>
                """
        }
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · Atlas</title>
            <link rel="stylesheet" href="/console/assets/console.css">
            </head>
            <body>
            <a class="skip" href="#main">Skip to content</a>
            <header class="top"><a class="brand" href="/console">Atlas</a>\(nav)</header>
            <main id="main" tabindex="-1">
            <h1>\(escape(title))</h1>
            \(body)
            </main>
            <footer><p>Atlas inventory console · read-only · printed \(escape(ISO8601DateFormatter().string(from: Date())))</p></footer>
            </body>
            </html>
            """
    }

    /// A table with a caption and header cells (`scope="col"`); `rows` are already-escaped cells.
    static func table(caption: String, headers: [String], rows: [[String]], empty: String) -> String {
        guard !rows.isEmpty else { return "<p class=\"empty\">\(escape(empty))</p>" }
        return """
            <table><caption>\(escape(caption))</caption>
            <thead><tr>\(headers.map { "<th scope=\"col\">\(escape($0))</th>" }.joined())</tr></thead>
            <tbody>\(rows.map { "<tr>" + $0.map { "<td>\($0)</td>" }.joined() + "</tr>" }.joined(separator: "\n"))</tbody>
            </table>
            """
    }

    /// A status badge: colour and the word (colour is never the only cue).
    static func badge(_ text: String, kind: String) -> String {
        "<span class=\"badge badge-\(escape(kind))\">\(escape(text))</span>"
    }

    /// A 12-hex-digit prefix of a hash, with the whole hash as its title.
    static func hash(_ h: String?) -> String {
        guard let h else { return "–" }
        return "<code title=\"\(escape(h))\">\(escape(String(h.prefix(12))))</code>"
    }
}

/// Who is looking at a console page.
struct ConsoleViewer: Sendable {
    var tokenName: String
    var csrf: String
    var grant: AccessGrant
}
