package import EventLog
import Foundation

/// Buffered writing to a file descriptor (stdout by default), in 64 KiB writes.
package final class BufferedWriter {
    let fd: Int32
    var buffer: [UInt8] = []
    let capacity: Int
    /// Set when the reader went away (EPIPE) or the write failed.
    package private(set) var failed = false
    package private(set) var bytesWritten = 0

    package init(fd: Int32 = 1, capacity: Int = 1 << 16) {
        self.fd = fd
        self.capacity = capacity
        buffer.reserveCapacity(capacity + 4096)
    }

    deinit { flush() }

    package func write<C: Collection<UInt8>>(_ bytes: C) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= capacity { flush() }
    }

    package func write(_ text: String) { write(text.utf8) }

    package func flush() {
        guard !buffer.isEmpty, !failed else { buffer.removeAll(keepingCapacity: true); return }
        buffer.withUnsafeBytes { b in
            var off = 0
            while off < b.count {
                let n = Foundation.write(fd, b.baseAddress! + off, b.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    failed = true
                    return
                }
                off += n
            }
        }
        bytesWritten += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }
}

/// `atlas-replay export`: NDJSON lines `{"position":N,"chain":"hex","envelope":{…}}`, the
/// envelope exactly as stored (canonical JSON), in constant memory.
package enum Exporter {
    package struct Filter: Sendable {
        package var tenant: String?
        package var typePrefix: String?
        package var from: UInt64
        /// Inclusive; `nil` = the head when the export starts.
        package var to: UInt64?

        package init(tenant: String? = nil, typePrefix: String? = nil, from: UInt64 = 1, to: UInt64? = nil) {
            self.tenant = tenant
            self.typePrefix = typePrefix
            self.from = from
            self.to = to
        }
    }

    static let p0 = Array(#"{"position":"#.utf8)
    static let p1 = Array(#","chain":""#.utf8)
    static let p2 = Array(#"","envelope":"#.utf8)

    /// Appends one line for `raw` to `out`.
    package static func line(_ raw: RawEvent, into out: BufferedWriter) {
        out.write(p0)
        out.write(String(raw.position).utf8)
        out.write(p1)
        out.write(raw.chainHash.hex.utf8)
        out.write(p2)
        out.write(raw.json)
        out.write([UInt8(ascii: "}"), UInt8(ascii: "\n")])
    }

    /// Writes the events matching `filter` through the head at the start (or `filter.to`);
    /// returns how many were written. Reads `chunk` events per short read transaction.
    @discardableResult
    package static func run(_ store: any EventStore, filter: Filter, to out: BufferedWriter, chunk: Int = 4096) throws -> UInt64 {
        let head = try store.head().position
        let end = min(filter.to ?? head, head)
        var written: UInt64 = 0
        func matchesType(_ raw: RawEvent) throws -> Bool {
            guard let prefix = filter.typePrefix else { return true }
            let type = try EnvelopeFields.read(raw.json)?.type ?? raw.decode().envelope.type
            return type.hasPrefix(prefix)
        }
        if let tenant = filter.tenant {
            // Through the tenant index: only the tenant's events are read.
            var after = filter.from > 0 ? filter.from - 1 : 0
            while after < end {
                let positions = try store.tenantPositions(tenant, after: after, limit: chunk)
                guard let last = positions.last else { break }
                let raws = try store.read { r in try positions.prefix { $0 <= end }.compactMap { try r.rawEvent(at: $0) } }
                for raw in raws {
                    // The index is not trusted to name the tenant: the event itself must.
                    let owner = try EnvelopeFields.read(raw.json)?.tenant ?? raw.decode().envelope.tenant
                    guard owner == tenant else {
                        out.flush()
                        throw ReplayFailure("the tenant index lists position \(raw.position) under tenant \(tenant), but that event belongs to another tenant; the export stops here (run `atlas-replay verify`)")
                    }
                    guard try matchesType(raw) else { continue }
                    line(raw, into: out)
                    written += 1
                }
                if out.failed { break }
                after = last
            }
        } else {
            try store.forEachRawEvent(from: max(filter.from, 1), through: end, chunk: chunk) { raw in
                if try matchesType(raw) {
                    line(raw, into: out)
                    written += 1
                }
                return !out.failed
            }
        }
        out.flush()
        return written
    }
}
