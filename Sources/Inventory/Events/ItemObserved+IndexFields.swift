import CanonicalJSON
import EventLog

extension ItemObserved {
    /// The fields the projections index, read from an `item_observed` payload's canonical
    /// bytes without decoding the payload.
    struct IndexFields: Sendable, Equatable {
        /// The policy type's UTF-8 bytes.
        var policyType: [UInt8]
        /// The external id's UTF-8 bytes.
        var externalID: [UInt8]
        /// The 32 bytes of `content_sha256`, when it is 64 hex digits.
        var contentSHA256: [UInt8]?
        /// The 16 bytes of `run_id`, when it is a UUID.
        var runID: [UInt8]?
        /// The 32 bytes of `selection_hash`, when it is 64 hex digits.
        var selectionHash: [UInt8]?

        /// Reads `data`; `nil` when it lacks a string `policy_type` or `external_id`.
        init?(_ data: UnsafeRawBufferPointer) {
            var type: [UInt8]?, id: [UInt8]?
            var scanner = JSONObjectScanner(data)
            while let m = scanner.next() {
                let k = m.key
                switch k.count {
                case 6 where JSONObjectScanner.keyEquals(data, k, "run_id"):
                    runID = m.value.count == 38 ? EventID(utf8: UnsafeRawBufferPointer(rebasing: data[(m.value.lowerBound + 1)..<(m.value.upperBound - 1)]))?.bytes : nil
                case 11 where JSONObjectScanner.keyEquals(data, k, "policy_type"):
                    type = Self.stringBytes(data, m.value)
                case 11 where JSONObjectScanner.keyEquals(data, k, "external_id"):
                    id = Self.stringBytes(data, m.value)
                case 14 where JSONObjectScanner.keyEquals(data, k, "content_sha256"):
                    contentSHA256 = Self.hash(data, m.value)
                case 14 where JSONObjectScanner.keyEquals(data, k, "selection_hash"):
                    selectionHash = Self.hash(data, m.value)
                default:
                    continue
                }
            }
            guard let type, let id else { return nil }
            policyType = type
            externalID = id
        }

        /// The fields of `o`, as ``init(_:)`` reads them from its payload.
        init(_ o: ItemObserved) {
            policyType = Array(o.policyType.utf8)
            externalID = Array(o.externalID.utf8)
            contentSHA256 = o.contentSHA256.utf8.count == 64 ? Hex.decode(o.contentSHA256) : nil
            runID = EventID(o.runID)?.bytes
            selectionHash = o.selectionHash.utf8.count == 64 ? Hex.decode(o.selectionHash) : nil
        }

        /// The decoded UTF-8 bytes of the string value at `range` (quotes included).
        static func stringBytes(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) -> [UInt8]? {
            guard range.count >= 2, b[range.lowerBound] == UInt8(ascii: "\"") else { return nil }
            let inner = b[(range.lowerBound + 1)..<(range.upperBound - 1)]
            if !inner.contains(UInt8(ascii: "\\")) { return Array(inner) }
            return Array(JSONObjectScanner.string(b, range).utf8)
        }

        static func hash(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) -> [UInt8]? {
            guard range.count == 66, b[range.lowerBound] == UInt8(ascii: "\"") else { return nil }
            return Hex.decode(utf8: UnsafeRawBufferPointer(rebasing: b[(range.lowerBound + 1)..<(range.upperBound - 1)]))
        }
    }
}
