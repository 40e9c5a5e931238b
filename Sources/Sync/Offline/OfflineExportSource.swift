import CanonicalJSON
import EventLog
import Foundation
import Inventory

/// Reads an NDJSON export file, streaming it in constant memory.
///
/// Types of the selection absent from the file were enumerated and are empty. A `failed` line
/// makes its type incomplete. A malformed line is reported with its line number and makes its
/// type incomplete; when its type cannot be read, every type is incomplete (a line that might
/// have held any item must never let items look deleted). Lines of types outside the selection
/// are ignored; lines naming unsupported types are errors.
public struct OfflineExportSource: InventorySource {
    public let path: String
    public let kind = "offline"
    public let secrets: [String] = []
    /// Items handed to the sink at a time.
    public var pageSize = 5000
    /// Longest line, in bytes.
    public var maxLineBytes = 8 << 20

    public init(path: String) { self.path = path }

    public func enumerate(tenant: String, types: [PolicyType], into sink: any SourceSink) async {
        let wanted = Dictionary(uniqueKeysWithValues: types.map { ($0.key, $0) })
        var incomplete: [String: SourceError] = [:]
        var allIncomplete: SourceError?
        var pages: [String: [GraphObject]] = [:]
        func flush(_ key: String) async throws {
            guard let items = pages[key], !items.isEmpty, let type = wanted[key] else { return }
            pages[key] = []
            do {
                try await sink.receive(items, of: type)
            } catch let e as SourceError {
                throw SinkRefused(error: e, record: false)
            } catch let e as EventLogError where e.code == .storageFull {
                throw SinkRefused(error: SourceError(.storeFull, policyType: key, "the store refused a page: \(e)"), record: true)
            } catch {
                throw SinkRefused(error: SourceError(.internalError, policyType: key, "the sink refused a page: \(error)"), record: true)
            }
        }
        do {
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw SourceError(.exportLineInvalid, "cannot open export file \(path)")
            }
            defer { try? handle.close() }
            var reader = LineReader(handle: handle, maxLineBytes: maxLineBytes)
            // Lines are parsed a block at a time on every core (each into its canonical
            // item), then handled one by one in file order. While one block's items are handled
            // (and sent to the sink), the next block is read and parsed, so both cores stay
            // busy. A block holds at most a page of lines and a few MiB; two are held at a time.
            var block: [UInt8] = []
            var entries: [BlockEntry] = []
            var atEnd = false
            var parsing: Task<ParsedBlock, Never>?
            // A handled block's buffers, refilled by the next read (no fresh pages per block).
            var recycled: (bytes: [UInt8], entries: [BlockEntry])?
            while true {
                // Read the next block (while the previous one is being parsed).
                while !atEnd {
                    guard let line = try reader.next() else {
                        atEnd = true
                        break
                    }
                    switch line {
                    case .tooLong:
                        entries.append(.tooLong(number: reader.lineNumber))
                    case .line(let range):
                        let lower = block.count
                        reader.withBytes(range) { block += $0 }
                        entries.append(.line(lower..<block.count, number: reader.lineNumber))
                    }
                    if entries.count >= pageSize || block.count >= Self.blockBytes { break }
                }
                let previous = await parsing?.value
                if !entries.isEmpty {
                    let (bytes, lines) = (block, entries)
                    parsing = Task { ParsedBlock(bytes: bytes, entries: lines, results: Self.parse(lines, in: bytes)) }
                    block = []
                    entries = []
                    if var r = recycled.take() {
                        r.bytes.removeAll(keepingCapacity: true)
                        r.entries.removeAll(keepingCapacity: true)
                        (block, entries) = r
                    }
                } else {
                    parsing = nil
                }
                guard var done = previous else {
                    if parsing == nil { break }
                    continue
                }
                defer { recycled = (done.bytes, done.entries) }
                for (index, entry) in done.entries.enumerated() {
                    let result = done.results[index].take()
                    let number: Int
                    switch entry {
                    case .tooLong(let n):
                        let e = SourceError(.exportLineInvalid, "line \(n): longer than \(maxLineBytes) bytes")
                        await sink.record(e)
                        allIncomplete = allIncomplete ?? e
                        continue
                    case .line(_, let n):
                        number = n
                    }
                    guard let result else { continue }
                    let parsed: ExportLine
                    switch result {
                    case .success(let line): parsed = line
                    case .failure(let error):
                        let e = SourceError(.exportLineInvalid, policyType: error.policyType, "line \(number): \(error.message)")
                        await sink.record(e)
                        if let t = error.policyType {
                            if wanted[t] != nil { incomplete[t] = incomplete[t] ?? e }
                        } else {
                            allIncomplete = allIncomplete ?? e
                        }
                        continue
                    }
                    switch parsed {
                    case .item(let key, let item):
                        guard wanted[key] != nil else {
                            if PolicyTypeRegistry.type(key) == nil {
                                await sink.record(SourceError(.exportUnknownType, "line \(number): unsupported policy type \"\(key.prefix(100))\""))
                            }
                            continue
                        }
                        pages[key, default: []].append(item)
                        if pages[key]!.count >= pageSize { try await flush(key) }
                    case .failed(let key, let code, let message):
                        guard wanted[key] != nil else { continue }
                        let e = SourceError(.exportTypeFailed, policyType: key, "line \(number): exporter failed (\(code)): \(message)")
                        await sink.record(e)
                        incomplete[key] = incomplete[key] ?? e
                    }
                }
            }
            for key in pages.keys.sorted() { try await flush(key) }
        } catch let r as SinkRefused {
            // The store refused items (full disk, …): stop reading; the run already knows why.
            if r.record { await sink.record(r.error) }
            allIncomplete = allIncomplete ?? r.error
        } catch let e as SourceError {
            await sink.record(e)
            allIncomplete = allIncomplete ?? e
        } catch {
            let e = SourceError(.exportLineInvalid, "reading \(path): \(error)")
            await sink.record(e)
            allIncomplete = allIncomplete ?? e
        }
        for t in types {
            let e = incomplete[t.key] ?? allIncomplete
            await sink.finishType(t, complete: e == nil, error: e)
        }
    }
}

extension OfflineExportSource {
    /// Bytes of lines parsed together, at most.
    static let blockBytes = 8 << 20

    /// Parses a block's lines on every core; `nil` for blank and too-long lines.
    fileprivate static func parse(_ entries: [BlockEntry], in block: [UInt8]) -> [Result<ExportLine, ExportLine.Error>?] {
        block.withUnsafeBytes { all in
            ParallelMap.map(entries, state: { [UInt8]() }) { scratch, entry -> Result<ExportLine, ExportLine.Error>? in
                guard case .line(let range, _) = entry else { return nil }
                let b = UnsafeRawBufferPointer(rebasing: all[range])
                if b.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { return nil }
                return Result { () throws(ExportLine.Error) -> ExportLine in try ExportLine.parse(b, scratch: &scratch) }
            }
        }
    }

    /// A block of lines and what parsing made of each (`nil`: nothing to handle).
    fileprivate struct ParsedBlock: Sendable {
        var bytes: [UInt8]
        var entries: [BlockEntry]
        var results: [Result<ExportLine, ExportLine.Error>?]
    }

    /// A line of a block: its bytes within the block, or a line that was too long.
    fileprivate enum BlockEntry: Sendable {
        case line(Range<Int>, number: Int)
        case tooLong(number: Int)
    }
}

/// The sink refused a page; not an error of the export file.
private struct SinkRefused: Error {
    var error: SourceError
    var record: Bool
}

/// Reads newline-separated lines from a file in chunks.
struct LineReader {
    /// What ``next()`` found.
    enum Line {
        /// A line: its bytes (without the newline) are ``withBytes(_:_:)`` of this range until
        /// the next call.
        case line(Range<Int>)
        /// A line longer than the limit, skipped.
        case tooLong
    }

    let handle: FileHandle
    let maxLineBytes: Int
    /// Bytes read from the file at a time.
    static let chunkBytes = 1 << 20
    private var buffer: [UInt8] = []
    private var start = 0
    private var eof = false
    private(set) var lineNumber = 0
    private var skipping = false

    init(handle: FileHandle, maxLineBytes: Int) {
        self.handle = handle
        self.maxLineBytes = maxLineBytes
    }

    /// The bytes of a line ``next()`` returned.
    func withBytes<R>(_ range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    /// The next line, or `nil` at end of file.
    mutating func next() throws -> Line? {
        while true {
            let found = buffer.withUnsafeBytes { b -> Int? in
                guard start < b.count, let p = memchr(b.baseAddress! + start, 10, b.count - start) else { return nil }
                return b.baseAddress!.distance(to: UnsafeRawPointer(p))
            }
            if let nl = found {
                let line = start..<nl
                start = nl + 1
                lineNumber += 1
                if skipping {
                    skipping = false
                    return .tooLong
                }
                return .line(line)
            }
            if buffer.count - start > maxLineBytes {
                // Drop what we have of the over-long line and keep scanning for its end.
                buffer.removeAll(keepingCapacity: true)
                start = 0
                skipping = true
            }
            if eof {
                guard start < buffer.count || skipping else { return nil }
                let line = start..<buffer.count
                start = buffer.count
                lineNumber += 1
                if skipping {
                    skipping = false
                    return .tooLong
                }
                return .line(line)
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            // Read straight into the buffer's tail (no `Data` per chunk).
            let before = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: Self.chunkBytes))
            let n = buffer.withUnsafeMutableBytes { b in
                var n: Int
                repeat { n = read(handle.fileDescriptor, b.baseAddress! + before, Self.chunkBytes) } while n < 0 && errno == EINTR
                return n
            }
            guard n >= 0 else {
                buffer.removeLast(Self.chunkBytes)
                throw SourceError(.exportLineInvalid, "reading the export failed: \(String(cString: strerror(errno)))")
            }
            buffer.removeLast(Self.chunkBytes - n)
            if n == 0 { eof = true }
        }
    }
}
