@testable import EventLog
import LMDB
import Testing

/// The log's stored layouts: a fixed value's bytes are pinned, so the format cannot drift, and
/// each reads back as written.
@Suite struct EventLogStoredLayoutTests {
    @Test func storedEventBytesArePinned() throws {
        let chain = (0..<32).map { UInt8($0) }
        let json = Array(#"{"a":1}"#.utf8)
        var value = [UInt8](repeating: 0xEE, count: StoredEvent.size(jsonBytes: json.count))
        value.withUnsafeMutableBytes { out in
            chain.withUnsafeBytes { c in json.withUnsafeBytes { StoredEvent.write(into: out, chain: c, json: $0) } }
        }
        #expect(value == chain + json)
        try value.withUnsafeBytes { v in
            let stored = try #require(StoredEvent(v))
            #expect(Array(stored.chain) == chain && Array(stored.json) == json)
        }
        #expect(RawTableEntry(key: [], value: value).storedEvent?.json == json)
        #expect([UInt8](repeating: 0, count: 31).withUnsafeBytes { StoredEvent($0) } == nil)
    }

    @Test func tenantEventKeyBytesArePinned() {
        let key = TenantEventKey.key("t1", position: 0x0102)
        #expect(key == Array("t1".utf8) + [0, 0, 0, 0, 0, 0, 0, 0x01, 0x02])
        let decoded = TenantEventKey.decode(key)
        #expect(decoded.map { Array($0.tenant) } == Array("t1".utf8) && decoded?.position == 0x0102)
        #expect(RawTableEntry(key: key, value: []).tenantIndexKey?.tenant == "t1")
        key.withUnsafeBytes { #expect(TenantEventKey.position($0, prefixBytes: 3) == 0x0102) }
        // The writer's key: the prefix once, then each position in place.
        var k = TenantEventKey.prefix("t1")
        for p in [UInt64(5), 0x0102] { UInt64BE.withBytes(of: p) { TenantEventKey.setPosition($0, in: &k, prefixBytes: 3) } }
        #expect(k == key)
        #expect(TenantEventKey.decode(Array("t1".utf8) + [1, 0, 0, 0, 0, 0, 0, 0, 1]) == nil)
        #expect(TenantEventKey.decode([0, 1, 2]) == nil)
    }
}
