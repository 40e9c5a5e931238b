import CanonicalJSON
import Foundation

extension ItemObserved {
    /// The members of an `item_observed` payload that an inventory row shows, read from the
    /// payload's bytes without building a ``JSONValue`` tree: the strings decoded, `meta` kept
    /// as its canonical bytes.
    ///
    /// It asks of the payload what ``ItemObserved/init(data:)`` asks (every member it reads
    /// present, of its type, once), and gives the same values; `meta` is the canonical form of
    /// the object the full decode gives, so its bytes serialize that object. `nil` when the
    /// payload reads otherwise; the caller then decodes it in full, which reports the problem.
    struct RowFields: Sendable, Equatable {
        var runID: String
        var policyType: String
        var externalID: String
        var displayName: String?
        var category: String
        var platform: String?
        /// The canonical JSON of the `meta` object.
        var metaJSON: [UInt8]
        var contentSHA256: String

        /// Reads the payload `data` (the `data` object of an envelope).
        init?(_ data: UnsafeRawBufferPointer) {
            var run: String?, type: String?, id: String?, name: String??, category: String?, platform: String??
            var meta: [UInt8]?, content: String?
            var seen: UInt16 = 0
            /// Marks member `bit` seen; false when it was seen already (a duplicate key).
            func first(_ bit: UInt16) -> Bool {
                defer { seen |= bit }
                return seen & bit == 0
            }
            func string(_ r: Range<Int>) -> String? {
                data[r.lowerBound] == UInt8(ascii: "\"") ? JSONObjectScanner.string(data, r) : nil
            }
            func optionalString(_ r: Range<Int>) -> String?? {
                if data[r.lowerBound] == UInt8(ascii: "\"") { return .some(JSONObjectScanner.string(data, r)) }
                if r.count == 4, JSONObjectScanner.keyEquals(data, r, "null") { return .some(nil) }
                return nil
            }
            var scanner = JSONObjectScanner(data)
            var end = 0
            while let m = scanner.next() {
                end = m.value.upperBound
                let k = m.key, v = m.value
                switch k.count {
                case 4 where JSONObjectScanner.keyEquals(data, k, "meta"):
                    guard first(1), data[v.lowerBound] == UInt8(ascii: "{") else { return nil }
                    var out: [UInt8] = []
                    out.reserveCapacity(v.count)
                    do { try CanonicalJSON.canonicalize(UnsafeRawBufferPointer(rebasing: data[v]), into: &out) } catch { return nil }
                    meta = out
                case 6 where JSONObjectScanner.keyEquals(data, k, "run_id"):
                    guard first(2), let s = string(v) else { return nil }
                    run = s
                case 8 where JSONObjectScanner.keyEquals(data, k, "category"):
                    guard first(4), let s = string(v) else { return nil }
                    category = s
                case 8 where JSONObjectScanner.keyEquals(data, k, "platform"):
                    guard first(8), let s = optionalString(v) else { return nil }
                    platform = s
                case 11 where JSONObjectScanner.keyEquals(data, k, "policy_type"):
                    guard first(16), let s = string(v) else { return nil }
                    type = s
                case 11 where JSONObjectScanner.keyEquals(data, k, "external_id"):
                    guard first(32), let s = string(v) else { return nil }
                    id = s
                case 12 where JSONObjectScanner.keyEquals(data, k, "display_name"):
                    guard first(64), let s = optionalString(v) else { return nil }
                    name = s
                case 14 where JSONObjectScanner.keyEquals(data, k, "content_sha256"):
                    guard first(128), let s = string(v) else { return nil }
                    content = s
                case 14 where JSONObjectScanner.keyEquals(data, k, "selection_hash"):
                    guard first(256), string(v) != nil else { return nil }
                case 17 where JSONObjectScanner.keyEquals(data, k, "dropped_meta_keys"):
                    // An integer, as canonical JSON writes one: digits, a leading minus.
                    guard first(512), !v.isEmpty,
                          data[v].enumerated().allSatisfy({ i, c in (c >= 48 && c <= 57) || (i == 0 && c == UInt8(ascii: "-") && v.count > 1) })
                    else { return nil }
                default:
                    continue
                }
            }
            // The scanner stops at the closing brace, or where the text is malformed.
            var close = end
            while close < data.count, data[close] == 0x20 || data[close] == 0x0A || data[close] == 0x0D || data[close] == 0x09 { close += 1 }
            guard close < data.count, data[close] == UInt8(ascii: "}"),
                  let run, let type, let id, let name, let category, let platform, let meta, let content, seen & 256 != 0,
                  seen & 512 != 0 else { return nil }
            (runID, policyType, externalID, displayName, self.category, self.platform, metaJSON, contentSHA256) =
                (run, type, id, name, category, platform, meta, content)
        }
    }
}
