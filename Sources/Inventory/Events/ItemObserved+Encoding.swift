import CanonicalJSON
import EventLog

extension ItemObserved {
    /// The `inventory.item_observed` event of this observation, its payload written straight
    /// to canonical bytes (the same bytes as ``data`` would give, without building the tree).
    public func event(tenant: String, correlationID: String?, recordedAt: Timestamp = .now()) throws(EventLogError) -> EncodedEvent {
        try EncodedEvent(type: InventoryEventType.itemObserved, tenant: tenant, recordedAt: recordedAt, correlationID: correlationID) { out in
            try writeData(into: &out)
        }
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
        do { try CanonicalJSON.write(.object(meta), into: &out) } catch {
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
}
