import CanonicalJSON
import EventLog
import Foundation

extension ItemObserved {
    /// The fields the projections index, read from an `item_observed` payload's canonical
    /// bytes without decoding the payload (or handed over by the code that wrote it).
    ///
    /// One allocation: the fixed-size hashes and the key tail both projections share, side by
    /// side. (The keys themselves are built by the writer, on its stack.)
    struct IndexFields: Sendable, Equatable {
        /// content SHA-256 (32 bytes) ‖ run id (16) ‖ selection hash (32) ‖ policy type ‖ 0 ‖
        /// external id (UTF-8); see ``present``.
        private var storage: [UInt8]
        /// Which of the three were valid (64 hex digits, a UUID, 64 hex digits).
        private var present: UInt8

        /// Where each fixed-size field sits in ``storage``.
        static let contentSHA256Offset = 0
        static let runIDRange = 32..<48
        static let selectionHashOffset = 48
        static let fixedBytes = 80

        /// policy type ‖ 0 ‖ external id (UTF-8): how both projections' keys end.
        var typeAndID: ArraySlice<UInt8> { storage[Self.fixedBytes...] }
        /// The 32 bytes of `content_sha256`, when it is 64 hex digits.
        var contentSHA256: ArraySlice<UInt8>? { present & 1 != 0 ? storage[Self.contentSHA256Offset..<(Self.contentSHA256Offset + 32)] : nil }
        /// The 16 bytes of `run_id`, when it is a UUID.
        var runID: ArraySlice<UInt8>? { present & 2 != 0 ? storage[Self.runIDRange] : nil }
        /// The 32 bytes of `selection_hash`, when it is 64 hex digits.
        var selectionHash: ArraySlice<UInt8>? { present & 4 != 0 ? storage[Self.selectionHashOffset..<Self.fixedBytes] : nil }

        /// The fields of `event` (an `item_observed`), read once however many projections ask,
        /// or handed over by the producer's hint (which is keyed by this same type).
        static func of(_ event: ProjectionEvent) -> IndexFields? {
            event.memoized { IndexFields(event.data) }
        }

        /// Reads `data`; `nil` when it lacks a string `policy_type` or `external_id`.
        init?(_ data: UnsafeRawBufferPointer) {
            if let f = Self(canonicalLayout: data) {
                self = f
            } else {
                self.init(scanning: data)
            }
        }

        /// Reads `data` member by member (any layout).
        init?(scanning data: UnsafeRawBufferPointer) {
            var type: Range<Int>?, id: Range<Int>?
            var fixed = [UInt8](repeating: 0, count: Self.fixedBytes)
            present = 0
            var scanner = JSONObjectScanner(data)
            while let m = scanner.next() {
                let k = m.key
                switch k.count {
                case 6 where JSONObjectScanner.keyEquals(data, k, "run_id"):
                    if m.value.count == 38, fixed.withUnsafeMutableBytes({
                        EventID.parse(utf8: Self.inner(data, m.value), into: UnsafeMutableRawBufferPointer(rebasing: $0[Self.runIDRange]))
                    }) {
                        present |= 2
                    } else {
                        Self.clear(&fixed, Self.runIDRange)
                    }
                case 11 where JSONObjectScanner.keyEquals(data, k, "policy_type"):
                    type = m.value
                case 11 where JSONObjectScanner.keyEquals(data, k, "external_id"):
                    id = m.value
                case 14 where JSONObjectScanner.keyEquals(data, k, "content_sha256"):
                    if Self.hash(data, m.value, into: &fixed, at: Self.contentSHA256Offset) { present |= 1 } else { Self.clear(&fixed, 0..<32) }
                case 14 where JSONObjectScanner.keyEquals(data, k, "selection_hash"):
                    if Self.hash(data, m.value, into: &fixed, at: Self.selectionHashOffset) { present |= 4 } else { Self.clear(&fixed, Self.selectionHashOffset..<Self.fixedBytes) }
                default:
                    continue
                }
            }
            guard let type, let id, data[type.lowerBound] == UInt8(ascii: "\""), data[id.lowerBound] == UInt8(ascii: "\"") else {
                return nil
            }
            fixed.reserveCapacity(Self.fixedBytes + type.count + id.count)
            Self.appendString(data, type, to: &fixed)
            fixed.append(0)
            Self.appendString(data, id, to: &fixed)
            storage = fixed
        }

        /// Reads the layout ``ItemObserved/writeData(to:)`` writes, where the members are in
        /// canonical (sorted) order:
        /// `{"category":"…","content_sha256":"<64 hex>","display_name":…[,"dropped_meta_keys":N],"external_id":"…",`
        /// … `,"policy_type":"…","run_id":"<UUID>","selection_hash":"<64 hex>"}`. The first
        /// five are read from the front and the last three from the end, so the `meta` object
        /// between them is never scanned. `nil` when anything differs (the caller then scans):
        /// inside a JSON string every `"` is escaped, so a marker that matches at the place it
        /// must be is the member itself.
        init?(canonicalLayout b: UnsafeRawBufferPointer) {
            typealias L = ItemObservedLayout
            let n = b.count
            guard n > 200, let base = b.baseAddress else { return nil }
            /// Whether `marker` ends at `end` (exclusive).
            func matches(_ marker: StaticString, endingAt end: Int) -> Bool {
                let count = marker.utf8CodeUnitCount
                return end - count >= 0 && end <= n && memcmp(base + end - count, marker.utf8Start, count) == 0
            }
            func quote(at i: Int) -> Bool { i >= 0 && i < n && b[i] == L.quote }
            var fixed = [UInt8]()
            fixed.reserveCapacity(160)
            fixed.append(contentsOf: repeatElement(0, count: Self.fixedBytes))
            present = 7
            // From the end: selection hash, run id, policy type.
            let hashOpen = n - L.selectionHashTailBytes
            guard b[n - 1] == L.close, b[n - 2] == L.quote, matches(L.selectionHash, endingAt: hashOpen),
                  Self.hash(b, hashOpen..<(n - 1), into: &fixed, at: Self.selectionHashOffset) else { return nil }
            let runOpen = hashOpen - L.selectionHash.utf8CodeUnitCount - L.runIDValueBytes
            let runClose = runOpen + L.runIDValueBytes - 1
            guard quote(at: runOpen), matches(L.runID, endingAt: runOpen), b[runClose] == L.quote,
                  fixed.withUnsafeMutableBytes({
                      EventID.parse(utf8: UnsafeRawBufferPointer(rebasing: b[(runOpen + 1)..<runClose]),
                                    into: UnsafeMutableRawBufferPointer(rebasing: $0[Self.runIDRange]))
                  }) else { return nil }
            let typeClose = runOpen - L.runID.utf8CodeUnitCount - 1
            guard typeClose > 0, b[typeClose] == L.quote else { return nil }
            var t = typeClose - 1
            while t > 0, b[t] != L.quote, b[t] != UInt8(ascii: "\\") { t -= 1 }
            guard b[t] == L.quote, matches(L.policyType, endingAt: t) else { return nil }
            let type = t..<(typeClose + 1)
            // From the front: category, content hash, display name, dropped count, external id.
            guard matches(L.category, endingAt: L.category.utf8CodeUnitCount), quote(at: L.category.utf8CodeUnitCount) else { return nil }
            var i = L.category.utf8CodeUnitCount + 1
            while i < n, b[i] != L.quote, b[i] != UInt8(ascii: "\\") { i += 1 }
            let contentOpen = i + 1 + L.contentSHA256.utf8CodeUnitCount
            guard i < n, b[i] == L.quote, matches(L.contentSHA256, endingAt: contentOpen), quote(at: contentOpen) else { return nil }
            let contentEnd = contentOpen + L.hashValueBytes
            guard contentEnd < n, b[contentEnd - 1] == L.quote,
                  Self.hash(b, contentOpen..<contentEnd, into: &fixed, at: Self.contentSHA256Offset),
                  matches(L.displayName, endingAt: contentEnd + L.displayName.utf8CodeUnitCount) else { return nil }
            let nameOpen = contentEnd + L.displayName.utf8CodeUnitCount
            i = JSONObjectScanner.skipValue(b, from: nameOpen)
            guard i > nameOpen else { return nil }
            if matches(L.droppedMetaKeys, endingAt: i + L.droppedMetaKeys.utf8CodeUnitCount) {
                i += L.droppedMetaKeys.utf8CodeUnitCount
                let digits = i
                while i < n, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") { i += 1 }
                guard i > digits else { return nil }
            }
            let idOpen = i + L.externalID.utf8CodeUnitCount
            guard matches(L.externalID, endingAt: idOpen), quote(at: idOpen) else { return nil }
            let idEnd = JSONObjectScanner.skipValue(b, from: idOpen)
            guard idEnd > idOpen, idEnd <= t - L.policyType.utf8CodeUnitCount else { return nil }
            Self.appendString(b, type, to: &fixed)
            fixed.append(0)
            Self.appendString(b, idOpen..<idEnd, to: &fixed)
            storage = fixed
        }

        /// The fields of an observation whose parts the producer holds as bytes: the content
        /// hash (32 bytes), the run id (16) and selection hash (32) when valid, and the external
        /// id's UTF-8.
        init(contentSHA256: UnsafeRawBufferPointer, runID: [UInt8]?, selectionHash: [UInt8]?, policyType: String,
             externalID: UnsafeRawBufferPointer) {
            var policyType = policyType
            storage = policyType.withUTF8 { type in
                [UInt8](unsafeUninitializedCapacity: Self.fixedBytes + 1 + type.count + externalID.count) { out, count in
                    var at = out.baseAddress!
                    func put(_ bytes: UnsafeRawBufferPointer?, _ length: Int) {
                        if let bytes, bytes.count == length, length > 0 {
                            UnsafeMutableRawPointer(at).copyMemory(from: bytes.baseAddress!, byteCount: length)
                        } else {
                            at.initialize(repeating: 0, count: length)
                        }
                        at += length
                    }
                    put(contentSHA256, 32)
                    runID.withUnsafeBytesIfPresent { put($0, 16) }
                    selectionHash.withUnsafeBytesIfPresent { put($0, 32) }
                    put(UnsafeRawBufferPointer(type), type.count)
                    put(nil, 1)
                    put(externalID, externalID.count)
                    count = at - out.baseAddress!
                }
            }
            present = (contentSHA256.count == 32 ? 1 : 0) | (runID?.count == 16 ? 2 : 0) | (selectionHash?.count == 32 ? 4 : 0)
        }

        /// The fields of `o`, as ``init(_:)`` reads them from its payload.
        init(_ o: ItemObserved) {
            var fixed = [UInt8](repeating: 0, count: Self.fixedBytes)
            present = 0
            if o.contentSHA256.utf8.count == 64, let h = Hex.decode(o.contentSHA256) {
                fixed.replaceSubrange(Self.contentSHA256Offset..<(Self.contentSHA256Offset + 32), with: h)
                present |= 1
            }
            if let run = EventID(o.runID) {
                fixed.replaceSubrange(Self.runIDRange, with: run.bytes)
                present |= 2
            }
            if o.selectionHash.utf8.count == 64, let h = Hex.decode(o.selectionHash) {
                fixed.replaceSubrange(Self.selectionHashOffset..<Self.fixedBytes, with: h)
                present |= 4
            }
            fixed += o.policyType.utf8
            fixed.append(0)
            fixed += o.externalID.utf8
            storage = fixed
        }

        /// Zeroes what a failed decode may have left, so that equal fields compare equal.
        static func clear(_ fixed: inout [UInt8], _ range: Range<Int>) {
            for i in range { fixed[i] = 0 }
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
            guard range.count == 66, b[range.lowerBound] == UInt8(ascii: "\"") else { return false }
            return out.withUnsafeMutableBytes {
                Hex.decode(utf8: inner(b, range), into: UnsafeMutableRawBufferPointer(rebasing: $0[offset..<(offset + 32)]))
            }
        }
    }
}

extension Optional<[UInt8]> {
    /// `body` with the array's bytes, or with `nil`.
    fileprivate func withUnsafeBytesIfPresent<R>(_ body: (UnsafeRawBufferPointer?) -> R) -> R {
        switch self {
        case .some(let a): a.withUnsafeBytes { body($0) }
        case .none: body(nil)
        }
    }
}
