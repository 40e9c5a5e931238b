import CanonicalJSON
import Crypto
import EventLog
import Foundation

/// Turns Graph objects of one policy type into `inventory.item_observed` events for one run,
/// on the sync hot path.
///
/// The event is the one ``ItemObserved/init(graphObject:type:runID:selectionHash:)`` and
/// ``ItemObserved/event(tenant:correlationID:recordedAt:)`` would make, byte for byte, but the
/// payload is written straight from the object's canonical bytes: kept values are copied as
/// they are (a canonical value is already in its canonical form), so no `String`, `JSONValue`
/// or dictionary is made for them. An object that needs decoding to be judged — escapes in its
/// id, over-long values, anything unusual — goes through ``ItemObserved`` instead, which
/// gives the same result or the same rejection.
public struct ObservationEncoder: Sendable {
    public let type: PolicyType
    public let runID: String
    public let selectionHash: String
    public let tenant: String
    public let correlationID: String?
    /// `{"category":"…","content_sha256":"`
    private let head: [UInt8]
    /// `,"policy_type":"…","run_id":"…","selection_hash":"…"}`
    private let tail: [UInt8]
    /// The run id's 16 bytes and the selection hash's 32, when valid, for the projections' hint.
    private let runBytes: [UInt8]?
    private let selectionBytes: [UInt8]?
    /// The type's display-name field, as bytes.
    private let nameField: [UInt8]

    /// An observation ready to append.
    public struct Encoded: Sendable {
        public var event: EncodedEvent
        /// What the projections index (also the event's hint): content hash, policy type and
        /// external id, without a `String` or array each.
        let fields: ItemObserved.IndexFields

        public var externalID: String {
            let tail = fields.typeAndID
            let id = tail[(tail.firstIndex(of: 0).map { $0 + 1 } ?? tail.endIndex)...]
            return String(decoding: id, as: UTF8.self)
        }
        /// The 32 bytes of `content_sha256`.
        public var contentSHA256: [UInt8] { Array(fields.contentSHA256 ?? []) }
    }

    public init(type: PolicyType, runID: String, selectionHash: String, tenant: String, correlationID: String?) {
        self.type = type
        self.runID = runID
        self.selectionHash = selectionHash
        self.tenant = tenant
        self.correlationID = correlationID
        var head = Array(#"{"category":"#.utf8)
        CanonicalJSON.writeString(type.category.rawValue, into: &head)
        head += #","content_sha256":""#.utf8
        self.head = head
        var tail = Array(#","policy_type":"#.utf8)
        CanonicalJSON.writeString(type.key, into: &tail)
        tail += #","run_id":"#.utf8
        CanonicalJSON.writeString(runID, into: &tail)
        tail += #","selection_hash":"#.utf8
        CanonicalJSON.writeString(selectionHash, into: &tail)
        tail.append(UInt8(ascii: "}"))
        self.tail = tail
        runBytes = EventID(runID)?.bytes
        selectionBytes = selectionHash.utf8.count == 64 ? Hex.decode(selectionHash) : nil
        nameField = Array(type.nameField.utf8)
    }

    /// The observation of `item`.
    ///
    /// - Throws: ``ItemObserved/Rejection`` when the object cannot be observed; `EventLogError`
    ///   when the event cannot be written.
    public func encode(_ item: GraphObject, recordedAt: Timestamp = .now()) throws -> Encoded {
        if let encoded = try encodeDirectly(item, recordedAt: recordedAt) { return encoded }
        let o = try ItemObserved(graphObject: item, type: type, runID: runID, selectionHash: selectionHash)
        return Encoded(event: try o.event(tenant: tenant, correlationID: correlationID, recordedAt: recordedAt),
                       fields: ItemObserved.IndexFields(o))
    }

    // MARK: - The direct path

    /// What a Graph member is to an observation: the id, the display name, a member meta keeps
    /// (with the index of its key in ``MetaWhitelist/keysInCanonicalOrder`` and its rule), or
    /// another member (dropped and counted).
    private enum Role {
        case id, name, meta(slot: Int, rule: MetaWhitelist.Rule), other
    }

    private static let roles: [(key: [UInt8], role: Role)] = [(Array("id".utf8), .id)] + MetaWhitelist.fields.map { f in
        (Array(f.member.utf8), .meta(slot: MetaWhitelist.keysInCanonicalOrder.firstIndex(of: f.key)!, rule: f.rule))
    }

    /// `"key":` of each meta key, in canonical order.
    private static let slotKeys: [[UInt8]] = MetaWhitelist.keysInCanonicalOrder.map { key in
        var out: [UInt8] = []
        CanonicalJSON.writeString(key, into: &out)
        out.append(UInt8(ascii: ":"))
        return out
    }

    private func role(of key: UnsafeRawBufferPointer) -> Role {
        // Most keys differ in length from every kept key: no byte is compared for them.
        guard Self.keptLengths & (1 << key.count) != 0 || key.count == nameField.count else { return .other }
        func equal(_ k: [UInt8]) -> Bool {
            k.count == key.count && k.withUnsafeBytes { memcmp($0.baseAddress!, key.baseAddress!, key.count) == 0 }
        }
        for r in Self.roles where equal(r.key) { return r.role }
        return equal(nameField) ? .name : .other
    }

    /// Bit n set when a kept key (not the name field) is n bytes long.
    private static let keptLengths: UInt32 = roles.reduce(0) { $0 | (1 << UInt32($1.key.count)) }

    /// Whether the string value at `range` (quotes included) decodes to at most `max` UTF-8
    /// bytes; `nil` when only decoding can tell (it has escapes and is longer raw).
    private static func fits(_ b: UnsafeRawBufferPointer, _ range: Range<Int>, max: Int) -> Bool? {
        let body = range.count - 2
        if body <= max { return true }
        return UnsafeRawBufferPointer(rebasing: b[range]).contains(UInt8(ascii: "\\")) ? nil : false
    }

    /// The direct path: `nil` when the object must go through ``ItemObserved``.
    func encodeDirectly(_ item: GraphObject, recordedAt: Timestamp) throws -> Encoded? {
        let bytes = item.canonicalJSON
        var slots = [Range<Int>?](repeating: nil, count: Self.slotKeys.count)
        var id: Range<Int>?, name: Range<Int>?, odataType: Range<Int>?, platforms: Range<Int>?
        var dropped = 0
        let read: Bool = bytes.withUnsafeBytes { b in
            guard b.count >= 2, b[0] == UInt8(ascii: "{") else { return false }
            func isString(_ r: Range<Int>) -> Bool { b[r.lowerBound] == UInt8(ascii: "\"") }
            /// Whether a string value is kept: `nil` when only decoding can tell.
            func stringKept(_ r: Range<Int>) -> Bool? {
                isString(r) ? Self.fits(b, r, max: MetaWhitelist.maxStringBytes) : false
            }
            var scanner = JSONObjectScanner(b)
            while let m = scanner.next() {
                let v = m.value
                let key = UnsafeRawBufferPointer(rebasing: b[m.key])
                switch role(of: key) {
                case .id:
                    id = v
                case .name:
                    name = v
                case .other:
                    dropped += 1
                case .meta(let slot, let rule):
                    // The platform is derived from these two whether meta keeps them or not.
                    if key.elementsEqual("@odata.type".utf8) { odataType = v }
                    if key.elementsEqual("platforms".utf8) { platforms = v }
                    // The range meta keeps (the value itself, or the template family in it).
                    var kept: Range<Int>? = v
                    var valid: Bool?
                    switch rule {
                    case .string:
                        valid = stringKept(v)
                    case .integerOrString:
                        // An integer's canonical text is the canonical text of the number kept.
                        valid = isString(v) ? stringKept(v)
                            : (try? JSONParser().parse(UnsafeRawBufferPointer(rebasing: b[v])))?.int64Value != nil
                    case .stringArray:
                        valid = Self.scopeTagsValid(b, v)
                    case .templateFamily:
                        kept = Self.templateFamily(b, v)
                        valid = kept.map(stringKept) ?? false
                    }
                    guard let valid else { return false }
                    if valid, let kept { slots[slot] = kept } else { dropped += 1 }
                }
            }
            // The id as written must be the id as decoded: a non-empty string without escapes.
            guard let id, isString(id), id.count > 2, id.count - 2 <= ItemObserved.Limits.externalIDBytes,
                  !UnsafeRawBufferPointer(rebasing: b[id]).contains(UInt8(ascii: "\\")),
                  !UnsafeRawBufferPointer(rebasing: b[id]).contains(where: { $0 < 0x20 }) else { return false }
            if let name, isString(name), name.count - 2 > ItemObserved.Limits.displayNameBytes { return false }
            return true
        }
        guard read, let id else { return nil }

        let digest = Array(SHA256.hash(data: bytes))
        let platform = bytes.withUnsafeBytes { b in
            func body(_ r: Range<Int>?) -> UnsafeRawBufferPointer? {
                guard let r, b[r.lowerBound] == UInt8(ascii: "\"") else { return nil }
                return UnsafeRawBufferPointer(rebasing: b[(r.lowerBound + 1)..<(r.upperBound - 1)])
            }
            return type.platform(odataTypeRaw: body(odataType), platformsRaw: body(platforms))
        }
        let event = try EncodedEvent(type: InventoryEventType.itemObserved, tenant: tenant, recordedAt: recordedAt,
                                     correlationID: correlationID) { out in
            bytes.withUnsafeBytes { b in
                out += head
                digest.withUnsafeBytes { Hex.append($0, to: &out) }
                out += #"","display_name":"#.utf8
                if let name, b[name.lowerBound] == UInt8(ascii: "\"") { out += UnsafeRawBufferPointer(rebasing: b[name]) } else { out += "null".utf8 }
                out += #","dropped_meta_keys":"#.utf8
                out += String(dropped).utf8
                out += #","external_id":"#.utf8
                out += UnsafeRawBufferPointer(rebasing: b[id])
                out += #","meta":{"#.utf8
                var first = true
                for (slot, r) in slots.enumerated() {
                    guard let r else { continue }
                    if !first { out.append(UInt8(ascii: ",")) }
                    first = false
                    out += Self.slotKeys[slot]
                    out += UnsafeRawBufferPointer(rebasing: b[r])
                }
                out += #"},"platform":"#.utf8
                if let platform { CanonicalJSON.writeString(platform, into: &out) } else { out += "null".utf8 }
                out += tail
            }
        }
        let fields = bytes.withUnsafeBytes { b in
            ItemObserved.IndexFields(contentSHA256: digest, runID: runBytes, selectionHash: selectionBytes, policyType: type.key,
                                     externalID: UnsafeRawBufferPointer(rebasing: b[(id.lowerBound + 1)..<(id.upperBound - 1)]))
        }
        return Encoded(event: event.withProjectionHint(fields as ItemObserved.IndexFields?), fields: fields)
    }

    /// The `templateFamily` member of the object at `range`, or `nil`.
    private static func templateFamily(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) -> Range<Int>? {
        guard b[range.lowerBound] == UInt8(ascii: "{") else { return nil }
        var inner = JSONObjectScanner(UnsafeRawBufferPointer(rebasing: b[range]))
        let base = range.lowerBound
        while let t = inner.next() {
            if JSONObjectScanner.keyEquals(b, (t.key.lowerBound + base)..<(t.key.upperBound + base), "templateFamily") {
                return (t.value.lowerBound + base)..<(t.value.upperBound + base)
            }
        }
        return nil
    }

    /// Whether the value at `range` is an array of at most ``MetaWhitelist/maxScopeTags``
    /// strings of at most 256 UTF-8 bytes each; `nil` when only decoding can tell.
    private static func scopeTagsValid(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool? {
        guard b[range.lowerBound] == UInt8(ascii: "[") else { return false }
        var i = range.lowerBound + 1
        let end = range.upperBound - 1  // the closing bracket
        var count = 0
        var unknown = false
        while i < end {
            guard b[i] == UInt8(ascii: "\"") else { return false }
            let next = JSONObjectScanner.skipValue(b, from: i)
            guard next > i, next <= end else { return false }
            switch fits(b, i..<next, max: 256) {
            case .some(true): break
            case .some(false): return false
            case .none: unknown = true
            }
            count += 1
            i = next
            if i < end {
                guard b[i] == UInt8(ascii: ",") else { return false }
                i += 1
            }
        }
        guard count <= MetaWhitelist.maxScopeTags else { return false }
        return unknown ? nil : true
    }
}
