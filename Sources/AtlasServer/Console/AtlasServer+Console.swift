import Foundation
import EventLog
import HTTPTypes
import Hummingbird
import Inventory

extension AtlasServer {
    /// Answers `/console…`: assets, sign-in and sign-out, and the pages (which need a session).
    func console(_ r: IncomingRequest, tokenName: inout String?) async throws -> Response {
        let s = Array(r.segments.dropFirst())
        if s.first == "assets", s.count == 2, r.method == .get {
            switch s[1] {
            case "console.css": return Reply.bytes(Array(ConsoleAssets.css.utf8), contentType: "text/css; charset=utf-8")
            case "tail.js": return Reply.bytes(Array(ConsoleAssets.tailScript.utf8), contentType: "text/javascript; charset=utf-8")
            default: return notFoundPage(viewer: nil, "There is no such file.")
            }
        }
        if s == ["sign-in"] {
            if r.method == .post { return try signIn(r, tokenName: &tokenName) }
            return signInPage(error: nil, status: .ok)
        }
        let session = r.cookies[ConsoleCookie.session].flatMap { id in sessions.session(id).map { (id, $0) } }
        guard let (sessionID, current) = session, let grant = try grant(of: current) else {
            if r.method == .post { return Reply.redirect("/console/sign-in") }
            return Reply.redirect("/console/sign-in")
        }
        tokenName = grant.tokenName
        let viewer = ConsoleViewer(tokenName: grant.tokenName, csrf: current.csrf, grant: grant)
        if s == ["sign-out"] {
            guard r.method == .post else { return notFoundPage(viewer: viewer, "Sign out with the button at the top of the page.") }
            guard let csrf = r.field("csrf"), BearerToken.constantTimeEquals(Array(csrf.utf8), Array(current.csrf.utf8)) else {
                return Reply.html(HTML.page(title: "Forbidden", signedIn: viewer, body: "<p class=\"error\">The form was not sent from this console (its CSRF token is missing or wrong). Reload the page and try again.</p>"), status: .forbidden)
            }
            sessions.close(sessionID)
            return Reply.redirect("/console/sign-in", cookies: [ConsoleCookie.clear(ConsoleCookie.session, secure: configuration.secureCookies)])
        }
        guard r.method == .get || r.method == .head else {
            return Reply.html(HTML.page(title: "Not allowed", signedIn: viewer, body: "<p>This page is read-only.</p>"), status: .methodNotAllowed)
        }
        do {
            switch s.count {
            case 0: return try tenantsPage(viewer)
            case 1 where s[0] == "tail": return try tailPage(r, viewer)
            case 2 where s[0] == "tenants": return try inventoryPage(try visibleTenant(s[1], grant: grant), r, viewer)
            case 3 where s[0] == "tenants":
                let tenant = try visibleTenant(s[1], grant: grant)
                switch s[2] {
                case "runs": return try runsPage(tenant, viewer)
                case "missing": return try missingPage(tenant, r, viewer)
                case "changes": return try changesPage(tenant, r, viewer)
                default: break
                }
            case 6 where s[0] == "tenants" && s[2] == "items" && s[5] == "history":
                return try historyPage(try visibleTenant(s[1], grant: grant), policyType: s[3], id: s[4], viewer)
            default: break
            }
        } catch let p as APIProblem where p.code == .tenantNotFound {
            return notFoundPage(viewer: viewer, "No tenant of that name is visible to your token.")
        } catch let p as APIProblem {
            return Reply.html(HTML.page(title: p.code.title, signedIn: viewer, body: "<p class=\"error\" role=\"alert\">\(HTML.escape(p.detail))</p>"),
                              status: .init(code: p.status))
        }
        return notFoundPage(viewer: viewer, "There is no such page.")
    }

    func notFoundPage(viewer: ConsoleViewer?, _ text: String) -> Response {
        Reply.html(HTML.page(title: "Not found", signedIn: viewer, body: "<p>\(HTML.escape(text))</p><p><a href=\"/console\">Back to the tenants</a></p>"),
                   status: .notFound)
    }

    /// The sign-in form, with a fresh double-submit CSRF value.
    func signInPage(error: String?, status: HTTPResponse.Status) -> Response {
        let csrf = SessionStore.randomID()
        let body = """
            \(error.map { "<p class=\"error\" role=\"alert\" id=\"sign-in-error\">\(HTML.escape($0))</p>" } ?? "")
            <p>Sign in with an access token. An operator creates one on the store's host with
            <code>atlas token create --name NAME</code> (add <code>--tenant T</code> to limit it to tenants).</p>
            <form class="choose" method="post" action="/console/sign-in">
            <input type="hidden" name="csrf" value="\(csrf)">
            <label for="token">Access token
            <input id="token" name="token" type="password" autocomplete="off" required spellcheck="false" size="52"\(error != nil ? " aria-describedby=\"sign-in-error\"" : "")></label>
            <button type="submit">Sign in</button>
            </form>
            """
        var response = Reply.html(HTML.page(title: "Sign in", signedIn: nil, body: body), status: status)
        response.headers.append(HTTPField(name: .setCookie, value: ConsoleCookie.set(ConsoleCookie.signInCSRF, csrf, secure: configuration.secureCookies)))
        return response
    }

    /// `POST /console/sign-in`: checks the CSRF pair and the token, then opens a session.
    func signIn(_ r: IncomingRequest, tokenName: inout String?) throws -> Response {
        guard let sent = r.field("csrf"), let cookie = r.cookies[ConsoleCookie.signInCSRF], !cookie.isEmpty,
              BearerToken.constantTimeEquals(Array(sent.utf8), Array(cookie.utf8)) else {
            return signInPage(error: "The sign-in form expired or was not sent from this console. Try again.", status: .forbidden)
        }
        let token = (r.field("token") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard let grant = try verifier.grant(for: token) else {
            return signInPage(error: "That token is not valid (unknown, expired or revoked).", status: .unauthorized)
        }
        tokenName = grant.tokenName
        let (id, _) = sessions.open(tokenName: grant.tokenName, tokenSHA256: BearerToken.sha256(token))
        let secure = configuration.secureCookies
        return Reply.redirect("/console", cookies: [
            ConsoleCookie.set(ConsoleCookie.session, id, secure: secure), ConsoleCookie.clear(ConsoleCookie.signInCSRF, secure: secure),
        ])
    }
}
