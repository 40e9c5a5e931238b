/// The console's cookies.
enum ConsoleCookie {
    /// The session id (HttpOnly, SameSite=Strict).
    static let session = "atlas_session"
    /// The sign-in form's CSRF value (double-submit: the form carries the same value).
    static let signInCSRF = "atlas_signin_csrf"

    /// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/, Secure unless `secure` is off.
    static func set(_ name: String, _ value: String, secure: Bool, maxAge: Int? = nil) -> String {
        var parts = ["\(name)=\(value)", "Path=/", "HttpOnly", "SameSite=Strict"]
        if secure { parts.append("Secure") }
        if let maxAge { parts.append("Max-Age=\(maxAge)") }
        return parts.joined(separator: "; ")
    }

    /// A `Set-Cookie` value that removes `name`.
    static func clear(_ name: String, secure: Bool) -> String { set(name, "", secure: secure, maxAge: 0) }
}
