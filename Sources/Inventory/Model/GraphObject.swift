package import CanonicalJSON

/// A Graph object as received, held as its RFC 8785 canonical JSON: the form its
/// `content_sha256` is computed over. Sources hand these to a sync run.
package struct GraphObject: Sendable, Hashable {
    /// The canonical JSON bytes.
    package let canonicalJSON: [UInt8]

    /// An object from bytes that are already canonical JSON (for example, a member of a line
    /// that ``CanonicalJSON/canonicalize(_:limits:into:)`` wrote).
    package init(canonicalJSON: [UInt8]) { self.canonicalJSON = canonicalJSON }

    /// The canonical form of a parsed value.
    package init(_ value: JSONValue) throws {
        canonicalJSON = try CanonicalJSON.serialize(value)
    }
}
