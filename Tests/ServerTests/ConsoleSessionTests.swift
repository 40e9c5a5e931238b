import Foundation
import Testing

/// The console's sign-in, session cookie, CSRF checks and pages over real HTTP (no browser).
@Suite(.serialized) struct ConsoleSessionTests {
    /// The value of cookie `name` in a response's `Set-Cookie` headers, with its attributes.
    static func cookie(_ reply: HTTP.Reply, _ name: String) -> (value: String, attributes: [String])? {
        for header in reply.headers[canonicalForm: "set-cookie"] {
            let parts = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.first?.hasPrefix(name + "=") == true {
                return (String(parts[0].dropFirst(name.count + 1)), Array(parts.dropFirst()))
            }
        }
        return nil
    }

    /// The hidden `csrf` field of a page.
    static func csrf(_ html: String) -> String? {
        guard let r = html.range(of: #"name="csrf" value=""#) else { return nil }
        return String(html[r.upperBound...].prefix { $0 != "\"" })
    }

    @Test func signInOpensAStrictHttpOnlySessionAndFormsNeedTheirCSRFToken() async throws {
        let f = try ServerFixture()
        try await f.sync("contoso.com", ["a1", "a2"])
        try await f.sync("fabrikam.com", ["b1"])
        let token = try await f.token("auditor", tenants: ["contoso.com"])
        let (server, base) = try await f.startServer()
        defer { Task { await server.stop() } }

        #expect(try await HTTP.get(base + "/").header("location") == "/console")
        #expect(try await HTTP.get(base + "/console").header("location") == "/console/sign-in")
        let form = try await HTTP.get(base + "/console/sign-in")
        #expect(form.status == 200)
        #expect(form.text.contains(#"<label for="token">"#))
        let formCSRF = try #require(Self.csrf(form.text))
        let preCookie = try #require(Self.cookie(form, "atlas_signin_csrf"))
        #expect(preCookie.value == formCSRF)

        // Without the matching CSRF cookie the form is refused; with a bad token, 401.
        let noCookie = try await HTTP.request(.POST, base + "/console/sign-in", form: [("csrf", formCSRF), ("token", token)])
        #expect(noCookie.status == 403)
        let jar = [("Cookie", "atlas_signin_csrf=\(formCSRF)")]
        let wrong = try await HTTP.request(.POST, base + "/console/sign-in", headers: jar, form: [("csrf", formCSRF), ("token", "atlas_wrong")])
        #expect(wrong.status == 401)
        #expect(wrong.text.contains("not valid"))

        let signedIn = try await HTTP.request(.POST, base + "/console/sign-in", headers: jar, form: [("csrf", formCSRF), ("token", token)])
        #expect(signedIn.status == 303 && signedIn.header("location") == "/console")
        let session = try #require(Self.cookie(signedIn, "atlas_session"))
        #expect(session.attributes.contains("HttpOnly"))
        #expect(session.attributes.contains("SameSite=Strict"))
        #expect(!session.attributes.contains("Secure"), "plain HTTP on loopback: no Secure, or the browser would not send it back")
        let cookie = [("Cookie", "atlas_session=\(session.value)")]

        let overview = try await HTTP.get(base + "/console", headers: cookie)
        #expect(overview.status == 200)
        #expect(overview.text.contains("contoso.com") && !overview.text.contains("fabrikam.com"))
        #expect(overview.text.contains("<main") && overview.text.contains("<nav aria-label=\"Main\">"))
        for page in ["/console/tenants/contoso.com", "/console/tenants/contoso.com/runs", "/console/tenants/contoso.com/missing",
                     "/console/tenants/contoso.com/changes", "/console/tenants/contoso.com/items/deviceConfiguration/a1/history",
                     "/console/tail", "/console/tenants/contoso.com?type=deviceConfiguration&q=a2"] {
            let reply = try await HTTP.get(base + page, headers: cookie)
            #expect(reply.status == 200, "\(page)")
            #expect(reply.header("content-type") == "text/html; charset=utf-8")
            #expect(reply.header("content-security-policy")?.contains("script-src 'self'") == true)
        }
        #expect(try await HTTP.get(base + "/console/tenants/contoso.com?q=a2", headers: cookie).text.contains("Policy a2"))
        #expect(!(try await HTTP.get(base + "/console/tenants/contoso.com?q=a2", headers: cookie).text.contains("Policy a1")))
        // Another tenant: 404, the same as one that does not exist.
        #expect(try await HTTP.get(base + "/console/tenants/fabrikam.com", headers: cookie).status == 404)
        #expect(try await HTTP.get(base + "/console/tenants/fabrikam.com/runs", headers: cookie).status == 404)
        // The session cookie also authenticates the stream (the live tail's EventSource).
        #expect(try await HTTP.get(base + "/api/v1/events?tenant=fabrikam.com", headers: cookie).status == 404)
        // The assets are served by the app.
        #expect(try await HTTP.get(base + "/console/assets/console.css").text.contains("@media print"))
        #expect(try await HTTP.get(base + "/console/assets/tail.js").text.contains("EventSource"))

        // Sign-out needs the session's CSRF token.
        let pageCSRF = try #require(Self.csrf(overview.text))
        #expect(try await HTTP.request(.POST, base + "/console/sign-out", headers: cookie, form: [("csrf", "forged")]).status == 403)
        let out = try await HTTP.request(.POST, base + "/console/sign-out", headers: cookie, form: [("csrf", pageCSRF)])
        #expect(out.status == 303)
        #expect(try await HTTP.get(base + "/console", headers: cookie).status == 303, "the session is gone")
    }

    @Test func revokingTheTokenEndsItsSessions() async throws {
        let f = try ServerFixture()
        try await f.sync("contoso.com", ["a1"])
        let token = try await f.token("ops")
        let (server, base) = try await f.startServer()
        defer { Task { await server.stop() } }
        let form = try await HTTP.get(base + "/console/sign-in")
        let csrf = try #require(Self.csrf(form.text))
        let signedIn = try await HTTP.request(.POST, base + "/console/sign-in", headers: [("Cookie", "atlas_signin_csrf=\(csrf)")],
                                              form: [("csrf", csrf), ("token", token)])
        let session = try #require(Self.cookie(signedIn, "atlas_session")).value
        #expect(try await HTTP.get(base + "/console", headers: [("Cookie", "atlas_session=\(session)")]).status == 200)
        try await f.atlas(["token", "revoke", "ops"])
        #expect(try await HTTP.get(base + "/console", headers: [("Cookie", "atlas_session=\(session)")]).status == 303)
    }
}
