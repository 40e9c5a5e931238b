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
    package static func canonicalize(_ input: UnsafeRawBufferPointer, limits: JSONLimits = .default,
                                    into out: inout [UInt8]) throws(JSONParseError) {
        try transcode(input, limits: limits, indexing: false) { transcoder in out.append(contentsOf: transcoder.out.elements) }
    }

    /// Transcodes the whole of `input` in this thread's workspace (indexing members when
    /// `indexing`), then calls `body` with the transcoder.
    static func transcode<R>(_ input: UnsafeRawBufferPointer, limits: JSONLimits, indexing: Bool,
                             _ body: (borrowing CanonicalTranscoder) -> R) throws(JSONParseError) -> R {
        if input.count > limits.maxInputBytes {
            throw JSONParseError(offset: limits.maxInputBytes, message: "input larger than \(limits.maxInputBytes) bytes")
        }
        guard let raw = input.baseAddress, input.count > 0 else {
            throw JSONParseError(offset: 0, message: "unexpected end of input, expected a JSON value")
        }
        let workspace = TranscoderWorkspace.current
        var transcoder = CanonicalTranscoder(base: raw.assumingMemoryBound(to: UInt8.self), count: input.count, limits: limits,
                                             workspace: workspace)
        defer { transcoder.giveBack(to: workspace) }
        transcoder.indexing = indexing
        try transcoder.run()
        return body(transcoder)
    }
}

extension CanonicalJSON {
    /// Transcodes `input` as ``canonicalize(_:limits:into:)`` does — same validation, same
    /// errors — but leaves the members of a top-level object in input order, and hands `body`
    /// an index of them, and of the members of each object directly in it: a reader of records
    /// like `{"type": …, "item": {…}}` gets each value's canonical bytes and the item's members
    /// without scanning them again.
    ///
    /// Every value in the output is in canonical form; only the top-level object's member order
    /// is not (when it is not an object, the output is its canonical form).
    /// - Throws: ``JSONParseError`` when `input` is not valid I-JSON within `limits`.
    package static func withCanonicalMembers<R>(
        of input: UnsafeRawBufferPointer, limits: JSONLimits = .default, _ body: (CanonicalMembers) -> R
    ) throws(JSONParseError) -> R {
        try transcode(input, limits: limits, indexing: true) { transcoder in Self.withMembers(of: transcoder, body) }
    }

    /// Hands `body` the index `transcoder` recorded.
    private static func withMembers<R>(of transcoder: borrowing CanonicalTranscoder, _ body: (CanonicalMembers) -> R) -> R {
        let topCount = transcoder.topMembers.count
        return withUnsafeTemporaryAllocation(of: JSONObjectScanner.Member.self, capacity: topCount + transcoder.nested.count) { all in
            for (i, m) in transcoder.topMembers.elements.enumerated() {
                all.initializeElement(at: i, to: m.ranges(at: m.start, origin: 0).member)
            }
            for (i, m) in transcoder.nested.elements.enumerated() { all.initializeElement(at: topCount + i, to: m.member) }
            defer { _ = all.deinitialize() }
            return body(CanonicalMembers(
                bytes: UnsafeRawBufferPointer(transcoder.out.elements), members: UnsafeBufferPointer(rebasing: all[..<topCount]),
                isObject: transcoder.out.count > 0 && transcoder.out[0] == UInt8(ascii: "{"),
                nested: UnsafeBufferPointer(rebasing: all[topCount...]), nestedObjects: transcoder.nestedObjects.elements))
        }
    }
}

/// The output of ``CanonicalJSON/withCanonicalMembers(of:limits:_:)``, valid only during its
/// `body`.
package struct CanonicalMembers {
    /// The transcoded text: every value canonical, a top-level object's members in input order.
    package let bytes: UnsafeRawBufferPointer
    /// The top-level object's members in input order, as ranges of ``bytes``; empty when the
    /// text is not an object (see ``isObject``).
    package let members: UnsafeBufferPointer<JSONObjectScanner.Member>
    /// Whether the text is an object.
    package let isObject: Bool
    let nested: UnsafeBufferPointer<JSONObjectScanner.Member>
    let nestedObjects: UnsafeBufferPointer<CanonicalTranscoder.NestedObject>

    /// The members, in canonical order, of the object that is the value of `members[i]`, as
    /// ranges of that value's bytes (`bytes[members[i].value]`); `nil` when it is not an object.
    package func members(ofValueAt i: Int) -> UnsafeBufferPointer<JSONObjectScanner.Member>? {
        let start = members[i].value.lowerBound
        guard bytes[start] == UInt8(ascii: "{") else { return nil }
        for o in nestedObjects where o.start == start {
            return UnsafeBufferPointer(rebasing: nested[o.first..<(o.first + o.count)])
        }
        return nil
    }
}
