package import CanonicalJSON
package import Inventory

/// One line of an offline export: `{"policy_type": K, "item": {…}}`,
/// `{"policy_type": K, "failed": {"code": C, "message": M}}`, or the coverage marker
/// `{"policy_type": K, "enumerated": {"count": N}}` written after type K's last item (see
/// docs/offline-export.md).
package enum ExportLine: Sendable, Hashable {
    case item(policyType: String, item: GraphObject)
    case failed(policyType: String, code: String, message: String)
    /// Type K was exported completely, with `count` item lines.
    case enumerated(policyType: String, count: Int)

    /// A line that cannot be used, with the policy type when it could still be read.
    package struct Error: Swift.Error, Sendable, Hashable {
        package var policyType: String?
        package var message: String
    }

    /// The limits a line is parsed with.
    package static let limits = JSONLimits(maxDepth: 64, maxStringBytes: 1 << 20, maxInputBytes: 8 << 20)

    /// Parses one line's bytes (without the newline).
    package static func parse(_ bytes: UnsafeRawBufferPointer) throws(Error) -> ExportLine {
        var scratch: [UInt8] = []
        return try parse(bytes, scratch: &scratch)
    }

    /// Parses one line's bytes (without the newline), reusing `scratch` for the line's
    /// canonical form: the line is validated and canonicalized in one pass, and the item is
    /// its `item` member's canonical bytes, with no JSON tree built.
    package static func parse(_ bytes: UnsafeRawBufferPointer, scratch: inout [UInt8]) throws(Error) -> ExportLine {
        switch try parse(bytes, scratch: &scratch, item: { type, item, _ in (type, GraphObject(canonicalJSON: Array(item))) }) {
        case .item(let (type, object)): .item(policyType: type, item: object)
        case .other(let line): line
        }
    }

    /// What ``parse(_:scratch:item:)`` makes of a line.
    enum Parsed<Item> {
        /// An item line: what the `item` closure returned.
        case item(Item)
        /// Any other valid line (`failed`, `enumerated`).
        case other(ExportLine)
    }

    /// Parses one line's bytes (as ``parse(_:scratch:)``), handing an item line's policy type,
    /// its item's canonical bytes (valid only during the call) and, when known, the item's
    /// members in canonical order (ranges of those bytes) to `item` instead of copying them
    /// into a ``GraphObject``.
    static func parse<Item>(
        _ bytes: UnsafeRawBufferPointer, scratch: inout [UInt8],
        item: (String, UnsafeRawBufferPointer, UnsafeBufferPointer<JSONObjectScanner.Member>?) -> Item
    ) throws(Error) -> Parsed<Item> {
        // The common line, `{"policy_type": "…", "item": {…}}` in either order, is transcoded
        // once with its members indexed: the item's canonical bytes and members are read from
        // the index, not scanned again. Any other line (or an invalid one) takes the general
        // path, which names what is wrong.
        let fast = try? CanonicalJSON.withCanonicalMembers(of: bytes, limits: limits) { line -> Parsed<Item>? in
            guard line.members.count == 2 else { return nil }
            let b = line.bytes
            var type: String?, itemAt: Int?
            for (i, m) in line.members.enumerated() {
                let key = UnsafeRawBufferPointer(rebasing: b[m.key])
                if key.elementsEqual("policy_type".utf8), b[m.value.lowerBound] == UInt8(ascii: "\"") {
                    type = Self.policyTypeName(b, m.value)
                } else if key.elementsEqual("item".utf8), b[m.value.lowerBound] == UInt8(ascii: "{") {
                    itemAt = i
                }
            }
            guard let type, let itemAt else { return nil }
            return .item(item(type, UnsafeRawBufferPointer(rebasing: b[line.members[itemAt].value]), line.members(ofValueAt: itemAt)))
        }
        if let fast = fast ?? nil { return fast }
        scratch.removeAll(keepingCapacity: true)
        do { try CanonicalJSON.canonicalize(bytes, limits: limits, into: &scratch) } catch {
            throw Error(policyType: nil, message: "not valid JSON: \(error)")
        }
        let result = scratch.withUnsafeBytes { b in
            Result { () throws(Error) -> Parsed<Item> in
                switch try members(of: b) {
                case .item(let type, let range): .item(item(type, UnsafeRawBufferPointer(rebasing: b[range]), nil))
                case .line(let line): .other(line)
                }
            }
        }
        return try result.get()
    }

    /// A line as ``members(of:)`` reads it: an item (its range in the canonical line), a
    /// `failed` or an `enumerated` line.
    private enum Members {
        case item(policyType: String, Range<Int>)
        case line(ExportLine)
    }

    /// The policy type string at `range` (quotes included): a registered key's own `String`
    /// when it is one (no allocation per line), otherwise decoded.
    private static func policyTypeName(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        let body = UnsafeRawBufferPointer(rebasing: b[(range.lowerBound + 1)..<(range.upperBound - 1)])
        for (bytes, key) in registeredKeys where bytes.count == body.count && bytes.elementsEqual(body) { return key }
        return JSONObjectScanner.string(b, range)
    }

    private static let registeredKeys: [([UInt8], String)] = PolicyTypeRegistry.all.map { (Array($0.key.utf8), $0.key) }

    /// The line from its canonical bytes `b`.
    private static func members(of b: UnsafeRawBufferPointer) throws(Error) -> Members {
        guard b.first == UInt8(ascii: "{") else {
            throw Error(policyType: nil, message: "line is \(Self.typeName(b, 0..<b.count)), not an object")
        }
        var type: String?, typeIsString = true
        var item: Range<Int>?, failed: Range<Int>?, enumerated: Range<Int>?, extra: String?
        var scanner = JSONObjectScanner(b)
        while let m = scanner.next() {
            let key = UnsafeRawBufferPointer(rebasing: b[m.key])
            if key.elementsEqual("policy_type".utf8) {
                type = b[m.value.lowerBound] == UInt8(ascii: "\"") ? Self.policyTypeName(b, m.value) : nil
                typeIsString = type != nil
            } else if key.elementsEqual("item".utf8) {
                item = m.value
            } else if key.elementsEqual("failed".utf8) {
                failed = m.value
            } else if key.elementsEqual("enumerated".utf8) {
                enumerated = m.value
            } else if extra == nil {
                // Members come in canonical order, so this is the first unknown key in that order.
                extra = JSONObjectScanner.string(b, m.key)
            }
        }
        guard typeIsString, let type else { throw Error(policyType: nil, message: "\"policy_type\" is missing or not a string") }
        if let extra { throw Error(policyType: type, message: "unknown key \"\(extra.prefix(100))\"") }
        if let enumerated {
            guard item == nil, failed == nil else {
                throw Error(policyType: type, message: "line has \"enumerated\" and \"\(item == nil ? "failed" : "item")\"")
            }
            return .line(.enumerated(policyType: type, count: try markerCount(b, enumerated, type: type)))
        }
        switch (item, failed) {
        case (let item?, nil):
            guard b[item.lowerBound] == UInt8(ascii: "{") else {
                throw Error(policyType: type, message: "\"item\" is \(Self.typeName(b, item)), not an object")
            }
            return .item(policyType: type, item)
        case (nil, let failed?):
            guard b[failed.lowerBound] == UInt8(ascii: "{"),
                  case .object(let f)? = try? JSONParser(limits: limits).parse(UnsafeRawBufferPointer(rebasing: b[failed]))
            else { throw Error(policyType: type, message: "\"failed\" is not an object") }
            return .line(.failed(policyType: type, code: f["code"]?.stringValue ?? "unknown", message: f["message"]?.stringValue ?? ""))
        case (nil, nil):
            throw Error(policyType: type, message: "line has none of \"item\", \"failed\" and \"enumerated\"")
        default:
            throw Error(policyType: type, message: "line has both \"item\" and \"failed\"")
        }
    }

    /// The largest count a marker may state.
    static let maxMarkerCount = 1 << 40

    /// The `count` of the `enumerated` object at `range`: `{"count": N}`, N an integer from 0
    /// to ``maxMarkerCount``, and nothing else.
    private static func markerCount(_ b: UnsafeRawBufferPointer, _ range: Range<Int>, type: String) throws(Error) -> Int {
        let bad = Error(policyType: type, message: "\"enumerated\" must be {\"count\": N} with N a whole number of item lines")
        guard b[range.lowerBound] == UInt8(ascii: "{"),
              case .object(let marker)? = try? JSONParser(limits: limits).parse(UnsafeRawBufferPointer(rebasing: b[range])),
              marker.count == 1, case .number(let n)? = marker["count"],
              n >= 0, n <= Double(maxMarkerCount), n.rounded(.towardZero) == n
        else { throw bad }
        return Int(n)
    }

    /// The JSON type name (as ``JSONValue/typeName``) of the valid value at `range`.
    static func typeName(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        switch range.isEmpty ? 0 : b[range.lowerBound] {
        case UInt8(ascii: "{"): "object"
        case UInt8(ascii: "["): "array"
        case UInt8(ascii: "\""): "string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): "boolean"
        case UInt8(ascii: "n"): "null"
        default: "number"
        }
    }
}
