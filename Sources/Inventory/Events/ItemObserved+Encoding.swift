import CanonicalJSON
import EventLog

extension ItemObserved {
    /// The `inventory.item_observed` event of this observation, its payload written straight
    /// to canonical bytes (the same bytes as ``data`` would give, without building the tree).
    /// The projections' fields go with it, so the writer need not read them back.
    public func event(tenant: String, correlationID: String?, recordedAt: Timestamp = .now()) throws(EventLogError) -> EncodedEvent {
        try EncodedEvent(type: InventoryEventType.itemObserved, tenant: tenant, recordedAt: recordedAt, correlationID: correlationID) { out in
            try writeData(into: &out)
        }.withProjectionHint(IndexFields(self) as IndexFields?)
    }

    /// Appends the canonical JSON of ``data`` to `out`.
    public func writeData(into out: inout [UInt8]) throws(EventLogError) {
        // Keys in RFC 8785 order.
        out += #"{"category":"#.utf8
        CanonicalJSON.writeString(category, into: &out)
        out += #","content_sha256":"#.utf8
        CanonicalJSON.writeString(contentSHA256, into: &out)
        out += #","display_name":"#.utf8
        if let displayName { CanonicalJSON.writeString(displayName, into: &out) } else { out += "null".utf8 }
        out += #","dropped_meta_keys":"#.utf8
        do { try CanonicalJSON.writeNumber(Double(droppedMetaKeys), into: &out) } catch {
            throw EventLogError(.invalidEvent, "dropped_meta_keys: \(error)")
        }
        out += #","external_id":"#.utf8
        CanonicalJSON.writeString(externalID, into: &out)
        out += #","meta":"#.utf8
        do { try Self.writeMeta(meta, into: &out) } catch {
            throw EventLogError(.invalidEvent, "meta cannot be written as canonical JSON: \(error)")
        }
        out += #","platform":"#.utf8
        if let platform { CanonicalJSON.writeString(platform, into: &out) } else { out += "null".utf8 }
        out += #","policy_type":"#.utf8
        CanonicalJSON.writeString(policyType, into: &out)
        out += #","run_id":"#.utf8
        CanonicalJSON.writeString(runID, into: &out)
        out += #","selection_hash":"#.utf8
        CanonicalJSON.writeString(selectionHash, into: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// Meta's canonical JSON: the whitelist's keys in their known order, without sorting.
    static func writeMeta(_ meta: [String: JSONValue], into out: inout [UInt8]) throws {
        var written = 0
        let start = out.count
        out.append(UInt8(ascii: "{"))
        for key in MetaWhitelist.keysInCanonicalOrder {
            guard let value = meta[key] else { continue }
            if written > 0 { out.append(UInt8(ascii: ",")) }
            CanonicalJSON.writeString(key, into: &out)
            out.append(UInt8(ascii: ":"))
            try CanonicalJSON.write(value, into: &out)
            written += 1
        }
        out.append(UInt8(ascii: "}"))
        if written != meta.count {
            // Keys outside the whitelist (built by hand): sort them all the general way.
            out.removeSubrange(start...)
            try CanonicalJSON.write(.object(meta), into: &out)
        }
    }
}
