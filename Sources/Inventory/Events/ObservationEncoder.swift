package import CanonicalJSON
import Crypto
package import EventLog
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
///
/// Every source's items become events here (the Sync module's sources hand their sink pages
/// this encoder made). The contract of the direct path — the same payload bytes, projection
/// fields and ``ItemObserved/Rejection`` as the general path for the same object — is pinned
/// by `ObservationEncoderTests.directEncodingEqualsTheGeneralPath`; both write the layout
/// ``ItemObservedLayout`` states.
package struct ObservationEncoder: Sendable {
    /// What the encoder holds, in one object: encoders are copied per item on the hot path,
    /// and copying one reference is cheaper than copying each field.
    private final class Constants: Sendable {
        let type: PolicyType
        let runID: String
        let selectionHash: String
        let tenant: String
        let correlationID: String?
        /// `{"category":"…","content_sha256":"` (``ItemObservedLayout``)
        let head: [UInt8]
        /// `,"policy_type":"…","run_id":"…","selection_hash":"…"}`
        let tail: [UInt8]
        /// The run id's 16 bytes and the selection hash's 32, when valid, for the projections' hint.
        let runBytes: [UInt8]?
        let selectionBytes: [UInt8]?
        /// The type's display-name field, as bytes.
        let nameField: [UInt8]
        /// The envelope's fields every observation of the run shares, or why they are invalid.
        let template: EventTemplate?
        let templateError: EventLogError?

        init(type: PolicyType, runID: String, selectionHash: String, tenant: String, correlationID: String?) {
            self.type = type
            self.runID = runID
            self.selectionHash = selectionHash
            self.tenant = tenant
            self.correlationID = correlationID
            typealias L = ItemObservedLayout
            var head: [UInt8] = []
            L.append(L.category, to: &head)
            CanonicalJSON.writeString(type.category.rawValue, into: &head)
            L.append(L.contentSHA256, to: &head)
            head.append(L.quote)
            self.head = head
            var tail: [UInt8] = []
            L.append(L.policyType, to: &tail)
            CanonicalJSON.writeString(type.key, into: &tail)
            L.append(L.runID, to: &tail)
            CanonicalJSON.writeString(runID, into: &tail)
            L.append(L.selectionHash, to: &tail)
            CanonicalJSON.writeString(selectionHash, into: &tail)
            tail.append(L.close)
            self.tail = tail
            runBytes = EventID(runID)?.bytes
            selectionBytes = selectionHash.utf8.count == 64 ? Hex.decode(selectionHash) : nil
            nameField = Array(type.nameField.utf8)
            do {
                template = try EventTemplate(type: InventoryEventType.itemObserved, tenant: tenant, correlationID: correlationID)
                templateError = nil
            } catch {
                template = nil
                templateError = error
            }
        }
    }

    private let constants: Constants

    package var type: PolicyType { constants.type }
    package var runID: String { constants.runID }
    package var selectionHash: String { constants.selectionHash }
    package var tenant: String { constants.tenant }
    package var correlationID: String? { constants.correlationID }
    private var head: [UInt8] { constants.head }
    private var tail: [UInt8] { constants.tail }
    private var runBytes: [UInt8]? { constants.runBytes }
    private var selectionBytes: [UInt8]? { constants.selectionBytes }
    private var nameField: [UInt8] { constants.nameField }
    private var template: EventTemplate? { constants.template }
    private var templateError: EventLogError? { constants.templateError }

    /// An observation ready to append.
    package struct Encoded: Sendable {
        package var event: EncodedEvent
        /// What the projections index (also the event's hint): content hash, policy type and
        /// external id, without a `String` or array each.
        let fields: ItemObserved.IndexFields

        package var externalID: String {
            let tail = fields.typeAndID
            let id = tail[(tail.firstIndex(of: 0).map { $0 + 1 } ?? tail.endIndex)...]
            return String(decoding: id, as: UTF8.self)
        }
        /// The 32 bytes of `content_sha256`.
        package var contentSHA256: [UInt8] { Array(fields.contentSHA256 ?? []) }
    }

    package init(type: PolicyType, runID: String, selectionHash: String, tenant: String, correlationID: String?) {
        constants = Constants(type: type, runID: runID, selectionHash: selectionHash, tenant: tenant, correlationID: correlationID)
    }

    /// The observation of `item`.
    ///
    /// - Throws: ``ItemObserved/Rejection`` when the object cannot be observed; `EventLogError`
    ///   when the event cannot be written.
    package func encode(_ item: GraphObject, recordedAt: Timestamp = .now()) throws -> Encoded {
        if let encoded = try encodeDirectly(item, recordedAt: recordedAt) { return encoded }
        return try encodeInGeneral(item, recordedAt: recordedAt)
    }

    /// The observation of the Graph object whose canonical JSON is `bytes` (as a
    /// ``GraphObject`` holds it), read in place: a source that canonicalizes objects into a
    /// scratch buffer need not copy each into a ``GraphObject`` first.
    ///
    /// - Parameter members: the object's members in canonical order, as ranges of `bytes` (what
    ///   ``CanonicalMembers/members(ofValueAt:)`` gives), when the caller has them: the object
    ///   is then not scanned for them.
    /// - Throws: as ``encode(_:recordedAt:)``.
    package func encode(canonicalObject bytes: UnsafeRawBufferPointer, members: UnsafeBufferPointer<JSONObjectScanner.Member>? = nil,
                       recordedAt: Timestamp = .now()) throws -> Encoded {
        if let direct = try encodeDirectly(bytes, members: members, recordedAt: recordedAt) { return direct }
        return try encodeInGeneral(GraphObject(canonicalJSON: Array(bytes)), recordedAt: recordedAt)
    }

    /// Through ``ItemObserved``: for objects the direct path hands over.
    private func encodeInGeneral(_ item: GraphObject, recordedAt: Timestamp) throws -> Encoded {
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
        try item.canonicalJSON.withUnsafeBytes { try encodeDirectly($0, recordedAt: recordedAt) }
    }

    /// The direct path over the object's canonical bytes `b` (its `members`, when known).
    private func encodeDirectly(_ b: UnsafeRawBufferPointer, members: UnsafeBufferPointer<JSONObjectScanner.Member>? = nil,
                                recordedAt: Timestamp) throws -> Encoded? {
        try withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: Self.slotKeys.count) { slots in
            try encodeDirectly(b, members: members, slots: slots, recordedAt: recordedAt)
        }
    }

    /// The members of an object: from the index the caller gave, or scanned.
    private struct Members {
        var scanner: JSONObjectScanner
        let index: UnsafeBufferPointer<JSONObjectScanner.Member>?
        var at = 0

        mutating func next() -> JSONObjectScanner.Member? {
            guard let index else { return scanner.next() }
            guard at < index.count else { return nil }
            defer { at &+= 1 }
            return index[at]
        }
    }

    /// The direct path over the object's canonical bytes `b`, with `slots` (one per meta key)
    /// to note the kept values in.
    private func encodeDirectly(_ b: UnsafeRawBufferPointer, members: UnsafeBufferPointer<JSONObjectScanner.Member>?,
                                slots: UnsafeMutableBufferPointer<Range<Int>>, recordedAt: Timestamp) throws -> Encoded? {
        guard b.count >= 2, b[0] == UInt8(ascii: "{") else { return nil }
        // An empty range: no value (every JSON value is at least one byte).
        slots.initialize(repeating: 0..<0)
        var id: Range<Int>?, name: Range<Int>?, odataType: Range<Int>?, platforms: Range<Int>?
        var dropped = 0
        func isString(_ r: Range<Int>) -> Bool { b[r.lowerBound] == UInt8(ascii: "\"") }
        /// Whether a string value is kept: `nil` when only decoding can tell.
        func stringKept(_ r: Range<Int>) -> Bool? {
            isString(r) ? Self.fits(b, r, max: MetaWhitelist.maxStringBytes) : false
        }
        var scanner = Members(scanner: JSONObjectScanner(members == nil ? b : UnsafeRawBufferPointer(start: nil, count: 0)), index: members)
        while let m = scanner.next() {
            let v = m.value
            switch role(of: UnsafeRawBufferPointer(rebasing: b[m.key])) {
            case .id:
                id = v
            case .name:
                name = v
            case .other:
                dropped += 1
            case .meta(let slot, let rule):
                // The platform is derived from these two whether meta keeps them or not.
                if slot == Self.odataTypeSlot { odataType = v }
                if slot == Self.platformsSlot { platforms = v }
                // The range meta keeps (the value itself, or the template family in it).
                var kept: Range<Int>? = v
                var valid: Bool?
                switch rule {
                case .string:
                    valid = stringKept(v)
                case .integerOrString:
                    valid = isString(v) ? stringKept(v) : Self.isInteger(b, v)
                case .stringArray:
                    valid = Self.scopeTagsValid(b, v)
                case .templateFamily:
                    kept = Self.templateFamily(b, v)
                    valid = kept.map(stringKept) ?? false
                }
                guard let valid else { return nil }
                if valid, let kept { slots[slot] = kept } else { dropped += 1 }
            }
        }
        // The id as written must be the id as decoded: a non-empty string without escapes.
        guard let id, isString(id), id.count > 2, id.count - 2 <= ItemObserved.Limits.externalIDBytes,
              !UnsafeRawBufferPointer(rebasing: b[id]).contains(where: { $0 == UInt8(ascii: "\\") || $0 < 0x20 })
        else { return nil }
        if let name, isString(name), name.count - 2 > ItemObserved.Limits.displayNameBytes { return nil }
        let nameValue = name.flatMap { isString($0) ? $0 : nil }

        func inner(_ r: Range<Int>?) -> UnsafeRawBufferPointer? {
            guard let r, isString(r) else { return nil }
            return UnsafeRawBufferPointer(rebasing: b[(r.lowerBound + 1)..<(r.upperBound - 1)])
        }
        let platformJSON = type.platform(odataTypeRaw: inner(odataType), platformsRaw: inner(platforms)).map(Self.quoted) ?? []
        var droppedDigits = (UInt64(0), 0)  // the digits of `dropped`, right-aligned, and their count
        var n = dropped
        repeat {
            droppedDigits.0 = droppedDigits.0 >> 8 | UInt64(48 + n % 10) << 56
            droppedDigits.1 += 1
            n /= 10
        } while n > 0 && droppedDigits.1 < 8
        guard n == 0 else { return nil }  // more than 8 digits: not an object Graph sends

        // The payload's size, then the payload, written in place.
        var metaBytes = 0, metaCount = 0
        for slot in slots.indices where !slots[slot].isEmpty {
            metaBytes += Self.slotKeys[slot].count + slots[slot].count
            metaCount += 1
        }
        typealias L = ItemObservedLayout
        let size = head.count + (L.hashValueBytes - 1) + L.displayName.utf8CodeUnitCount + (nameValue?.count ?? 4)
            + L.droppedMetaKeys.utf8CodeUnitCount + droppedDigits.1 + L.externalID.utf8CodeUnitCount + id.count
            + L.meta.utf8CodeUnitCount + 1 + metaBytes + max(0, metaCount - 1) + 1
            + L.platform.utf8CodeUnitCount + (platformJSON.isEmpty ? 4 : platformJSON.count) + tail.count
        let digest = SHA256.hash(data: b)
        let fields = digest.withUnsafeBytes { d in
            ItemObserved.IndexFields(contentSHA256: d, runID: runBytes, selectionHash: selectionBytes, policyType: type.key,
                                     externalID: UnsafeRawBufferPointer(rebasing: b[(id.lowerBound + 1)..<(id.upperBound - 1)]))
        }
        guard let template else { throw templateError! }
        let event = try template.event(recordedAt: recordedAt, dataBytes: size, hint: ProjectionHint(fields as ItemObserved.IndexFields?)) { out in
            var w = Writer(out)
            head.withUnsafeBytes { w.put($0) }
            digest.withUnsafeBytes { w.hex($0) }
            w.byte(L.quote)
            w.put(L.displayName)
            if let nameValue { w.put(UnsafeRawBufferPointer(rebasing: b[nameValue])) } else { w.put("null") }
            w.put(L.droppedMetaKeys)
            withUnsafeBytes(of: droppedDigits.0.bigEndian) { w.put(UnsafeRawBufferPointer(rebasing: $0[0..<droppedDigits.1])) }
            w.put(L.externalID)
            w.put(UnsafeRawBufferPointer(rebasing: b[id]))
            w.put(L.meta)
            w.byte(UInt8(ascii: "{"))
            var first = true
            for slot in slots.indices where !slots[slot].isEmpty {
                if !first { w.byte(UInt8(ascii: ",")) }
                first = false
                Self.slotKeys[slot].withUnsafeBytes { w.put($0) }
                w.put(UnsafeRawBufferPointer(rebasing: b[slots[slot]]))
            }
            w.byte(UInt8(ascii: "}"))
            w.put(L.platform)
            if platformJSON.isEmpty { w.put("null") } else { platformJSON.withUnsafeBytes { w.put($0) } }
            tail.withUnsafeBytes { w.put($0) }
            precondition(w.at == w.end, "observation payload size miscounted")
        }
        return Encoded(event: event, fields: fields)
    }

    /// `platform` as a JSON string: the platforms the registry derives are written once.
    private static func quoted(_ platform: String) -> [UInt8] {
        for (name, json) in knownPlatforms where name == platform { return json }
        var out: [UInt8] = []
        CanonicalJSON.writeString(platform, into: &out)
        return out
    }

    private static let knownPlatforms: [(String, [UInt8])] = PolicyType.platforms.map { p in
        var out: [UInt8] = []
        CanonicalJSON.writeString(p, into: &out)
        return (p, out)
    }

    private static let odataTypeSlot = MetaWhitelist.keysInCanonicalOrder.firstIndex(of: "odata_type")!
    private static let platformsSlot = MetaWhitelist.keysInCanonicalOrder.firstIndex(of: "platforms")!

    /// Writes bytes forward into a buffer sized for them; writing past its end traps.
    private struct Writer {
        var at: UnsafeMutableRawPointer
        let end: UnsafeMutableRawPointer

        init(_ buffer: UnsafeMutableRawBufferPointer) {
            at = buffer.baseAddress!
            end = buffer.baseAddress! + buffer.count
        }

        private func reserve(_ n: Int) {
            precondition(end - at >= n, "observation payload size miscounted")
        }

        mutating func put(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress else { return }
            reserve(bytes.count)
            at.copyMemory(from: base, byteCount: bytes.count)
            at += bytes.count
        }

        mutating func put(_ s: StaticString) {
            reserve(s.utf8CodeUnitCount)
            at.copyMemory(from: s.utf8Start, byteCount: s.utf8CodeUnitCount)
            at += s.utf8CodeUnitCount
        }

        mutating func byte(_ c: UInt8) {
            reserve(1)
            at.storeBytes(of: c, as: UInt8.self)
            at += 1
        }

        /// Lowercase hex of `bytes`.
        mutating func hex(_ bytes: UnsafeRawBufferPointer) {
            reserve(2 * bytes.count)
            Hex.write(bytes, to: at)
            at += 2 * bytes.count
        }
    }

    /// Whether the number at `range` (canonical text) is an integer meta keeps as a number:
    /// up to 15 digits are exact in a double, and canonical text writes such an integer as
    /// its digits; any other text is parsed.
    private static func isInteger(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        var i = range.lowerBound
        if i < range.upperBound, b[i] == UInt8(ascii: "-") { i += 1 }
        let digits = range.upperBound - i
        if digits > 0, digits <= 15, b[i..<range.upperBound].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            return true
        }
        return (try? JSONParser().parse(UnsafeRawBufferPointer(rebasing: b[range])))?.int64Value != nil
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
