import CanonicalJSON
package import EventLog

extension ItemObserved {
    /// The `inventory.item_observed` event of this observation, its payload written straight
    /// to canonical bytes (the same bytes as ``data`` would give, without building the tree).
    /// The projections' fields go with it, so the writer need not read them back.
    package func event(tenant: String, correlationID: String?, recordedAt: Timestamp = .now()) throws(EventLogError) -> EncodedEvent {
        try EncodedEvent(type: InventoryEventType.itemObserved, tenant: tenant, recordedAt: recordedAt, correlationID: correlationID) { out in
            try writeData(into: &out)
        }.withProjectionHint(IndexFields(self) as IndexFields?)
    }

    /// Appends the canonical JSON of ``data`` to `out` (``ItemObservedLayout``).
    package func writeData(into out: inout [UInt8]) throws(EventLogError) {
        typealias L = ItemObservedLayout
        L.append(L.category, to: &out)
        CanonicalJSON.writeString(category, into: &out)
        L.append(L.contentSHA256, to: &out)
        CanonicalJSON.writeString(contentSHA256, into: &out)
        L.append(L.displayName, to: &out)
        if let displayName { CanonicalJSON.writeString(displayName, into: &out) } else { out += "null".utf8 }
        L.append(L.droppedMetaKeys, to: &out)
        do { try CanonicalJSON.writeNumber(Double(droppedMetaKeys), into: &out) } catch {
            throw EventLogError(.invalidEvent, "dropped_meta_keys: \(error)")
        }
        L.append(L.externalID, to: &out)
        CanonicalJSON.writeString(externalID, into: &out)
        L.append(L.meta, to: &out)
        do { try Self.writeMeta(meta, into: &out) } catch {
            throw EventLogError(.invalidEvent, "meta cannot be written as canonical JSON: \(error)")
        }
        L.append(L.platform, to: &out)
        if let platform { CanonicalJSON.writeString(platform, into: &out) } else { out += "null".utf8 }
        L.append(L.policyType, to: &out)
        CanonicalJSON.writeString(policyType, into: &out)
        L.append(L.runID, to: &out)
        CanonicalJSON.writeString(runID, into: &out)
        L.append(L.selectionHash, to: &out)
        CanonicalJSON.writeString(selectionHash, into: &out)
        out.append(L.close)
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
