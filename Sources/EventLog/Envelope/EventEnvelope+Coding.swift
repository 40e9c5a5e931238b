import CanonicalJSON

extension EventEnvelope {
    /// Limits enforced on every envelope before it is written.
    package enum Limits {
        /// Longest tenant id, in UTF-8 bytes.
        package static let tenantBytes = 256
        /// Longest event type, in UTF-8 bytes.
        package static let typeBytes = 128
        /// Longest correlation id, in UTF-8 bytes.
        package static let correlationIDBytes = 256
        /// Largest canonical envelope, in bytes.
        package static let envelopeBytes = 4 << 20
    }

    /// Checks the fields that every envelope must satisfy.
    package func validate() throws(EventLogError) {
        try Self.validateHeader(type: type, schema: schema, tenant: tenant, correlationID: correlationID)
        guard case .object = data else { throw EventLogError(.invalidEvent, "data must be a JSON object, not \(data.typeName)") }
    }

    /// Checks every field but the payload.
    static func validateHeader(type: String, schema: Int, tenant: String, correlationID: String?) throws(EventLogError) {
        func bad(_ m: String) -> EventLogError { EventLogError(.invalidEvent, m) }
        guard !type.isEmpty, type.utf8.count <= Limits.typeBytes,
              type.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 95 })
        else { throw bad("event type \"\(type.prefix(64))\" must be 1-\(Limits.typeBytes) characters of a-z, 0-9, '.', '_'") }
        guard !tenant.isEmpty, tenant.utf8.count <= Limits.tenantBytes, !tenant.utf8.contains(0)
        else { throw bad("tenant must be 1-\(Limits.tenantBytes) bytes with no NUL") }
        if let c = correlationID, c.isEmpty || c.utf8.count > Limits.correlationIDBytes {
            throw bad("correlation_id must be 1-\(Limits.correlationIDBytes) bytes when present")
        }
        guard schema >= 1 && schema <= 1_000_000 else { throw bad("schema must be a positive integer") }
    }

    /// The canonical (RFC 8785) JSON bytes of the envelope, after validation.
    package func canonicalJSON() throws(EventLogError) -> [UInt8] {
        try EncodedEvent(self).json
    }

    /// Decodes an envelope from its stored JSON bytes.
    /// - Parameter position: named in error messages.
    package init(canonicalJSON bytes: [UInt8], position: UInt64? = nil) throws(EventLogError) {
        let at = position.map { " at position \($0)" } ?? ""
        let value: JSONValue
        do {
            value = try JSONParser(limits: .init(maxDepth: 256, maxStringBytes: Limits.envelopeBytes, maxInputBytes: Limits.envelopeBytes * 2)).parse(bytes)
        } catch {
            throw EventLogError(.corruptEvent, "envelope\(at) is not valid JSON: \(error)")
        }
        guard case .object(let o) = value else { throw EventLogError(.corruptEvent, "envelope\(at) is not a JSON object") }
        func field(_ k: String) throws(EventLogError) -> JSONValue {
            guard let v = o[k] else { throw EventLogError(.corruptEvent, "envelope\(at) lacks \"\(k)\"") }
            return v
        }
        func string(_ k: String) throws(EventLogError) -> String {
            guard let s = try field(k).stringValue else { throw EventLogError(.corruptEvent, "envelope\(at): \"\(k)\" is not a string") }
            return s
        }
        let known: Set<String> = ["id", "type", "schema", "tenant", "recorded_at", "correlation_id", "data"]
        if let extra = o.keys.first(where: { !known.contains($0) }) {
            throw EventLogError(.corruptEvent, "envelope\(at) has unknown field \"\(extra)\"")
        }
        guard let id = EventID(try string("id")) else { throw EventLogError(.corruptEvent, "envelope\(at): \"id\" is not a UUID") }
        guard let schema = try field("schema").intValue else { throw EventLogError(.corruptEvent, "envelope\(at): \"schema\" is not an integer") }
        guard let recorded = Timestamp(rfc3339: try string("recorded_at")) else {
            throw EventLogError(.corruptEvent, "envelope\(at): \"recorded_at\" is not RFC 3339")
        }
        var correlation: String? = nil
        if let c = o["correlation_id"] {
            guard let s = c.stringValue else { throw EventLogError(.corruptEvent, "envelope\(at): \"correlation_id\" is not a string") }
            correlation = s
        }
        self.init(id: id, type: try string("type"), schema: schema, tenant: try string("tenant"),
                  recordedAt: recorded, correlationID: correlation, data: try field("data"))
        do { try validate() } catch { throw EventLogError(.corruptEvent, "envelope\(at): \(error.message)") }
    }
}
