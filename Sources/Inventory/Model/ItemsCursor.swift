import Foundation

/// Where a page of `items` ends: the key of its last item, as an opaque string a user passes
/// back (`atlas items --after CURSOR`) to read on from there.
///
/// Text: base64url without padding of policy type ‖ 0 ‖ external id (UTF-8), the item's key in
/// the `items` table after the tenant.
package struct ItemsCursor: Sendable, Hashable, CustomStringConvertible {
    /// The policy type of the last item read.
    package let policyType: String
    /// Its external id.
    package let externalID: String

    package init(policyType: String, externalID: String) {
        self.policyType = policyType
        self.externalID = externalID
    }

    /// Reads a cursor's text; `nil` when it is not one (not base64url, no separator, not UTF-8,
    /// an empty type or id, or longer than any key).
    package init?(text: String) {
        guard !text.isEmpty, text.utf8.count <= 1024,
              text.utf8.allSatisfy({ ItemsCursor.alphabet.contains($0) }) else { return nil }
        var b64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.utf8.count % 4 != 0 { b64 += "=" }
        guard let data = Data(base64Encoded: b64) else { return nil }
        let bytes = [UInt8](data)
        guard let zero = bytes.firstIndex(of: 0), zero > 0, zero < bytes.count - 1,
              let type = String(validating: bytes[..<zero], as: UTF8.self),
              let id = String(validating: bytes[(zero + 1)...], as: UTF8.self),
              !id.utf8.contains(0)
        else { return nil }
        policyType = type
        externalID = id
    }

    /// policy type ‖ 0 ‖ external id.
    var keyTail: [UInt8] { InventoryKeys.typeAndID(policyType, externalID) }

    /// The cursor's text.
    package var text: String {
        Data(keyTail).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    package var description: String { text }

    private static let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
}
