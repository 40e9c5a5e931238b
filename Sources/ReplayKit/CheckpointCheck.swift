package import EventLog
import Foundation

/// The outcome of checking one ``Checkpoint`` against a store.
package enum CheckpointCheck: Sendable, Hashable {
    /// Well signed, names this store, and the event at its position carries its chain hash.
    case ok
    /// The signature does not verify with the checkpoint's own key.
    case badSignature
    /// Well signed, but not by the pinned key.
    case otherKey
    /// It names another store.
    case otherStore(checkpoint: String, store: String)
    /// It names another store format.
    case otherFormat(checkpoint: Int, store: Int)
    /// The log ends before the checkpoint's position (truncated).
    case logEnds(head: UInt64)
    /// There is no event at the checkpoint's position although the log goes beyond it.
    case missingEvent
    /// The event at the position carries another chain hash (the log was rewritten).
    case chainDiffers(stored: ChainHash)
    /// The event at the position could not be read.
    case unreadable(String)

    /// Whether the checkpoint holds.
    package var isOK: Bool { self == .ok }

    /// The reason, as the report prints it after "checkpoint NAME: ".
    package func describe(_ c: Checkpoint, pinned: Bool) -> String {
        switch self {
        case .ok: "ok at position \(c.position) (key \(c.keyFingerprint)…, \(pinned ? "pinned" : "NOT pinned: signed by the key it names; pass --public-key to pin it"))"
        case .badSignature: "signature does not verify"
        case .otherKey: "signed by another key (\(c.keyFingerprint)…), not the one given with --public-key"
        case let .otherStore(cs, s): "belongs to store \(cs), not this store \(s)"
        case let .otherFormat(cf, sf): "names store format \(cf), not this store's format \(sf)"
        case let .logEnds(head): "log ends at \(head) before checkpoint position \(c.position)"
        case .missingEvent: "no event at checkpoint position \(c.position)"
        case let .chainDiffers(stored): "chain at \(c.position) differs from the checkpoint (stored \(stored.hex.prefix(16))…, checkpoint \(c.chain.hex.prefix(16))…)"
        case let .unreadable(why): "the event at position \(c.position) cannot be read: \(why)"
        }
    }
}

extension Checkpoint {
    /// Checks the checkpoint against `store`: its signature (by `pinnedKey` when given), its
    /// store id and format, and the chain hash stored with the event at its position, read
    /// directly (a damaged log elsewhere does not matter; a damaged read is reported, not
    /// thrown).
    package func check(in store: any EventStore, pinnedKey: [UInt8]?) -> CheckpointCheck {
        guard signatureIsValid else { return .badSignature }
        if let pinnedKey, pinnedKey != publicKey { return .otherKey }
        let meta: [String: String]
        do { meta = try store.metadata() } catch { return .unreadable("the store's meta table: \(error)") }
        let id = meta["store_id"] ?? "(none)"
        guard id == storeID else { return .otherStore(checkpoint: storeID, store: id) }
        guard store.formatVersion == formatVersion else { return .otherFormat(checkpoint: formatVersion, store: store.formatVersion) }
        do {
            let found = try store.rawEvents(from: position, limit: 1).first
            guard let found else { return .logEnds(head: try store.head().position) }
            guard found.position == position else { return .missingEvent }
            return found.chainHash == chain ? .ok : .chainDiffers(stored: found.chainHash)
        } catch {
            return .unreadable("\(error)")
        }
    }
}
