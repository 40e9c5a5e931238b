import CanonicalJSON

/// Which events a subscription delivers: all, or one tenant's, or those whose type starts with
/// a prefix, or both.
package struct SubscriptionFilter: Sendable, Hashable {
    /// Deliver only this tenant's events.
    package var tenant: String?
    /// Deliver only events whose type starts with this prefix (`inventory.` or
    /// `inventory.item_observed`).
    package var typePrefix: String?

    package init(tenant: String? = nil, typePrefix: String? = nil) {
        self.tenant = tenant
        self.typePrefix = typePrefix.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Every event.
    package static let all = SubscriptionFilter()

    /// Whether every event passes.
    package var isAll: Bool { tenant == nil && typePrefix == nil }

    /// Whether a decoded envelope passes.
    package func matches(_ envelope: EventEnvelope) -> Bool {
        if let tenant, envelope.tenant != tenant { return false }
        if let typePrefix, !envelope.type.hasPrefix(typePrefix) { return false }
        return true
    }
}

/// A filter compiled to byte checks on stored canonical JSON, so unmatched events are skipped
/// without decoding or copying.
///
/// A canonical envelope's last two members are `"tenant"` and `"type"` (RFC 8785 key order),
/// and a type is `[a-z0-9._]+`, so the stored bytes end with
/// `,"tenant":<canonical string>,"type":"<type>"}`. Anything not of that shape is decoded.
package struct CompiledFilter: Sendable {
    /// The filter it was compiled from.
    package let filter: SubscriptionFilter
    private let tenantSuffix: [UInt8]?
    private let typePrefix: [UInt8]?

    /// Compiles `filter`.
    package init(_ filter: SubscriptionFilter) {
        self.filter = filter
        if let t = filter.tenant {
            var s = Array(#","tenant":"#.utf8)
            CanonicalJSON.writeString(t, into: &s)
            s += #","type":""#.utf8
            tenantSuffix = s
        } else {
            tenantSuffix = nil
        }
        typePrefix = filter.typePrefix.map { Array($0.utf8) }
    }

    /// Whether every event passes.
    package var isAll: Bool { tenantSuffix == nil && typePrefix == nil }

    private static let typeKey = Array(#""type":""#.utf8)

    /// Whether the stored envelope `json` passes.
    package func matches(_ json: UnsafeRawBufferPointer) -> Bool {
        if isAll { return true }
        let n = json.count
        guard n > 12, json[n - 1] == UInt8(ascii: "}"), json[n - 2] == UInt8(ascii: "\"") else { return slowMatch(json) }
        var s = n - 2
        while s > 0 {
            let c = json[s - 1]
            if (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 46 || c == 95 { s -= 1 } else { break }
        }
        let k = Self.typeKey.count
        guard s > k, s < n - 2, json[s - 1] == UInt8(ascii: "\""),
              Self.typeKey.withUnsafeBytes({ memcmp($0.baseAddress!, json.baseAddress! + (s - k), k) == 0 })
        else { return slowMatch(json) }
        if let typePrefix {
            let typeLength = n - 2 - s
            guard typeLength >= typePrefix.count,
                  typePrefix.withUnsafeBytes({ memcmp($0.baseAddress!, json.baseAddress! + s, $0.count) == 0 })
            else { return false }
        }
        if let tenantSuffix {
            guard s >= tenantSuffix.count,
                  tenantSuffix.withUnsafeBytes({ memcmp($0.baseAddress!, json.baseAddress! + (s - $0.count), $0.count) == 0 })
            else { return false }
        }
        return true
    }

    private func slowMatch(_ json: UnsafeRawBufferPointer) -> Bool {
        // An event that cannot be decoded is delivered, so the consumer sees the error.
        guard let envelope = try? EventEnvelope(canonicalJSON: Array(json)) else { return true }
        return filter.matches(envelope)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
