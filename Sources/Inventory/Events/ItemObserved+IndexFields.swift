import CanonicalJSON
import EventLog

extension ItemObserved {
    /// The fields the projections index, read from an `item_observed` payload's canonical
    /// bytes without decoding the payload (or handed over by the code that wrote it).
    ///
    /// Two allocations, not five: the key tail both projections share, and the fixed-size
    /// hashes side by side. (The keys themselves are built by the writer: arrays made on one
    /// thread and freed on another cost more than building them where they are used.)
    struct IndexFields: Sendable, Equatable {
        /// policy type ‖ 0 ‖ external id (UTF-8): how both projections' keys end.
        var typeAndID: [UInt8]
        /// content SHA-256 (32 bytes) ‖ run id (16) ‖ selection hash (32); see ``present``.
        private var fixed: [UInt8]
        /// Which of the three were valid (64 hex digits, a UUID, 64 hex digits).
        private var present: UInt8

        /// The 32 bytes of `content_sha256`, when it is 64 hex digits.
        var contentSHA256: ArraySlice<UInt8>? { present & 1 != 0 ? fixed[0..<32] : nil }
        /// The 16 bytes of `run_id`, when it is a UUID.
        var runID: ArraySlice<UInt8>? { present & 2 != 0 ? fixed[32..<48] : nil }
        /// The 32 bytes of `selection_hash`, when it is 64 hex digits.
        var selectionHash: ArraySlice<UInt8>? { present & 4 != 0 ? fixed[48..<80] : nil }

        /// Reads `data`; `nil` when it lacks a string `policy_type` or `external_id`.
        init?(_ data: UnsafeRawBufferPointer) {
            var type: Range<Int>?, id: Range<Int>?
            fixed = [UInt8](repeating: 0, count: 80)
            present = 0
            var scanner = JSONObjectScanner(data)
            while let m = scanner.next() {
                let k = m.key
                switch k.count {
                case 6 where JSONObjectScanner.keyEquals(data, k, "run_id"):
                    if m.value.count == 38, let run = EventID(utf8: Self.inner(data, m.value)) {
                        fixed.replaceSubrange(32..<48, with: run.bytes)
                        present |= 2
                    }
                case 11 where JSONObjectScanner.keyEquals(data, k, "policy_type"):
                    type = m.value
                case 11 where JSONObjectScanner.keyEquals(data, k, "external_id"):
                    id = m.value
                case 14 where JSONObjectScanner.keyEquals(data, k, "content_sha256"):
                    if Self.hash(data, m.value, into: &fixed, at: 0) { present |= 1 }
                case 14 where JSONObjectScanner.keyEquals(data, k, "selection_hash"):
                    if Self.hash(data, m.value, into: &fixed, at: 48) { present |= 4 }
                default:
                    continue
                }
            }
            guard let type, let id, data[type.lowerBound] == UInt8(ascii: "\""), data[id.lowerBound] == UInt8(ascii: "\"") else {
                return nil
            }
            var tail = [UInt8]()
            tail.reserveCapacity(type.count + id.count)
            Self.appendString(data, type, to: &tail)
            tail.append(0)
            Self.appendString(data, id, to: &tail)
            typeAndID = tail
        }

        /// The fields of `o`, as ``init(_:)`` reads them from its payload.
        init(_ o: ItemObserved) {
            typeAndID = Array(o.policyType.utf8) + [0] + Array(o.externalID.utf8)
            fixed = [UInt8](repeating: 0, count: 80)
            present = 0
            if o.contentSHA256.utf8.count == 64, let h = Hex.decode(o.contentSHA256) {
                fixed.replaceSubrange(0..<32, with: h)
                present |= 1
            }
            if let run = EventID(o.runID) {
                fixed.replaceSubrange(32..<48, with: run.bytes)
                present |= 2
            }
            if o.selectionHash.utf8.count == 64, let h = Hex.decode(o.selectionHash) {
                fixed.replaceSubrange(48..<80, with: h)
                present |= 4
            }
        }

        /// The bytes between the quotes of the string value at `range`.
        static func inner(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(rebasing: b[(range.lowerBound + 1)..<(range.upperBound - 1)])
        }

        /// Appends the decoded UTF-8 of the string value at `range` (quotes included).
        static func appendString(_ b: UnsafeRawBufferPointer, _ range: Range<Int>, to out: inout [UInt8]) {
            let raw = inner(b, range)
            if !raw.contains(UInt8(ascii: "\\")) { out += raw } else { out += JSONObjectScanner.string(b, range).utf8 }
        }

        /// Decodes a 64-hex-digit string value into `out[offset..<offset+32]`; false otherwise.
        static func hash(_ b: UnsafeRawBufferPointer, _ range: Range<Int>, into out: inout [UInt8], at offset: Int) -> Bool {
            guard range.count == 66, b[range.lowerBound] == UInt8(ascii: "\""),
                  let bytes = Hex.decode(utf8: inner(b, range)) else { return false }
            out.replaceSubrange(offset..<(offset + 32), with: bytes)
            return true
        }
    }
}
