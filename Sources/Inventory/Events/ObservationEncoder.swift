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

    /// The slots of meta, in canonical key order (``MetaWhitelist/keysInCanonicalOrder``).
    private enum Slot: Int, CaseIterable {
        case createdAt, etag, modifiedAt, odataType, platforms, scopeTagIDs, technologies, templateFamily, version
        var key: StaticString {
            switch self {
            case .createdAt: #""created_at":"#
            case .etag: #""etag":"#
            case .modifiedAt: #""modified_at":"#
            case .odataType: #""odata_type":"#
            case .platforms: #""platforms":"#
            case .scopeTagIDs: #""scope_tag_ids":"#
            case .technologies: #""technologies":"#
            case .templateFamily: #""template_family":"#
            case .version: #""version":"#
            }
        }
    }

    /// What a Graph member is to an observation.
    private enum Role {
        case id, name, string(Slot), version, scopeTags, templateReference, other
    }

    private static let roles: [(key: [UInt8], role: Role)] = ([
        ("id", .id), ("@odata.type", .string(.odataType)), ("@odata.etag", .string(.etag)), ("version", .version),
        ("roleScopeTagIds", .scopeTags), ("templateReference", .templateReference), ("platforms", .string(.platforms)),
        ("technologies", .string(.technologies)), ("createdDateTime", .string(.createdAt)),
        ("lastModifiedDateTime", .string(.modifiedAt)), ("modifiedDateTime", .string(.modifiedAt)),
    ] as [(String, Role)]).map { (Array($0.0.utf8), $0.1) }

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

    /// Reasons the direct path hands an object to ``ItemObserved``.
    private struct Unusual: Error {}

    /// The direct path: `nil` when the object must go through ``ItemObserved``.
    func encodeDirectly(_ item: GraphObject, recordedAt: Timestamp) throws -> Encoded? {
        let bytes = item.canonicalJSON
        var slots = [Range<Int>?](repeating: nil, count: Slot.allCases.count)
        var id: Range<Int>?, name: Range<Int>?, odataType: Range<Int>?, platforms: Range<Int>?
        var dropped = 0
        let read: Bool = bytes.withUnsafeBytes { b in
            guard b.count >= 2, b[0] == UInt8(ascii: "{") else { return false }
            func isString(_ r: Range<Int>) -> Bool { b[r.lowerBound] == UInt8(ascii: "\"") }
            var scanner = JSONObjectScanner(b)
            while let m = scanner.next() {
                let v = m.value
                switch role(of: UnsafeRawBufferPointer(rebasing: b[m.key])) {
                case .id:
                    id = v
                case .name:
                    name = v
                case .other:
                    dropped += 1
                case .string(let slot):
                    if slot == .odataType { odataType = v }
                    if slot == .platforms { platforms = v }
                    guard isString(v) else { dropped += 1; continue }
                    guard let fits = Self.fits(b, v, max: MetaWhitelist.maxStringBytes) else { return false }
                    if fits { slots[slot.rawValue] = v } else { dropped += 1 }
                case .version:
                    if isString(v) {
                        guard let fits = Self.fits(b, v, max: MetaWhitelist.maxStringBytes) else { return false }
                        if fits { slots[Slot.version.rawValue] = v } else { dropped += 1 }
                    } else if (try? JSONParser().parse(UnsafeRawBufferPointer(rebasing: b[v])))?.int64Value != nil {
                        // An integer's canonical text is the canonical text of the number kept.
                        slots[Slot.version.rawValue] = v
                    } else {
                        dropped += 1
                    }
                case .scopeTags:
                    guard let valid = Self.scopeTagsValid(b, v) else { return false }
                    if valid { slots[Slot.scopeTagIDs.rawValue] = v } else { dropped += 1 }
                case .templateReference:
                    var family: Range<Int>?
                    if b[v.lowerBound] == UInt8(ascii: "{") {
                        var inner = JSONObjectScanner(UnsafeRawBufferPointer(rebasing: b[v]))
                        let base = v.lowerBound
                        while let t = inner.next() {
                            let key = (t.key.lowerBound + base)..<(t.key.upperBound + base)
                            if JSONObjectScanner.keyEquals(b, key, "templateFamily") {
                                family = (t.value.lowerBound + base)..<(t.value.upperBound + base)
                            }
                        }
                    }
                    guard let f = family, isString(f) else { dropped += 1; continue }
                    guard let fits = Self.fits(b, f, max: MetaWhitelist.maxStringBytes) else { return false }
                    if fits { slots[Slot.templateFamily.rawValue] = f } else { dropped += 1 }
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
                for slot in Slot.allCases {
                    guard let r = slots[slot.rawValue] else { continue }
                    if !first { out.append(UInt8(ascii: ",")) }
                    first = false
                    out += UnsafeRawBufferPointer(start: slot.key.utf8Start, count: slot.key.utf8CodeUnitCount)
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
