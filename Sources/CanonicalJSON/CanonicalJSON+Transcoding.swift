extension CanonicalJSON {
    /// Appends the RFC 8785 canonical form of the JSON text `input` to `out`, without building
    /// a ``JSONValue``.
    ///
    /// The result is byte-identical to `serialize(try JSONParser(limits: limits).parse(input))`,
    /// and the input is validated exactly as ``JSONParser`` validates it (limits, duplicate
    /// keys, UTF-8, escapes, numbers, whitespace); it is several times faster because values are
    /// copied or rewritten straight into `out` and only objects whose keys are out of order are
    /// sorted.
    ///
    /// When this throws, `out` is left exactly as it was before the call.
    /// - Throws: ``JSONParseError`` when `input` is not valid I-JSON within `limits`.
    public static func canonicalize(_ input: UnsafeRawBufferPointer, limits: JSONLimits = .default,
                                    into out: inout [UInt8]) throws(JSONParseError) {
        if input.count > limits.maxInputBytes {
            throw JSONParseError(offset: limits.maxInputBytes, message: "input larger than \(limits.maxInputBytes) bytes")
        }
        guard let raw = input.baseAddress, input.count > 0 else {
            throw JSONParseError(offset: 0, message: "unexpected end of input, expected a JSON value")
        }
        var transcoder = CanonicalTranscoder(base: raw.assumingMemoryBound(to: UInt8.self), count: input.count, limits: limits)
        try transcoder.run()
        out.append(contentsOf: transcoder.out.elements)
    }
}
