extension String {
    /// The longest prefix of at most `maxBytes` UTF-8 bytes that ends on a character boundary
    /// of the encoding (never splits a multi-byte sequence).
    func utf8Prefix(maxBytes: Int) -> String {
        let u = Array(utf8)
        guard u.count > maxBytes else { return self }
        var cut = maxBytes
        while cut > 0 && (u[cut] & 0xC0) == 0x80 { cut -= 1 }
        return String(decoding: u[0..<cut], as: UTF8.self)
    }
}
