import CanonicalJSON
import EventLog
import Foundation
package import Inventory

/// Reads an NDJSON export file, streaming it in constant memory.
///
/// A type of the selection is complete only when the file holds its coverage marker,
/// `{"policy_type": K, "enumerated": {"count": N}}`, after its last item line, and N equals
/// its item lines; otherwise (no marker, a wrong count, items after the marker, a second
/// marker) it is incomplete with `export_incomplete`, so that a cut-short or legacy export
/// never makes items look deleted. The counts are kept as the lines are handled, in the one
/// pass over the file. A `failed` line makes its type incomplete. A malformed line is reported with its line number and makes its
/// type incomplete; when its type cannot be read, every type is incomplete (a line that might
/// have held any item must never let items look deleted). Lines of types outside the selection
/// are ignored; lines naming unsupported types are errors.
///
/// Lines are read a block at a time and parsed on every core, each into its canonical item,
/// and each item is encoded in the same pass with the sink's encoder
/// (``SourceSink/observationEncoder(for:)``), straight from its canonical bytes. The lines are then handled
/// one by one in file order, and the block's items go to the sink, a page per type. While one
/// block is handled (and its pages sent to the sink), the next block is read and parsed, so
/// the cores stay busy. The first blocks are small (1/8, 1/4, … of a page of lines), so that
/// the log's writer starts at once; pages then reach it at the pace blocks are parsed, not in
/// a burst whenever every type has filled a page.
package struct OfflineExportSource: InventorySource {
    package let path: String
    package let kind = "offline"
    package let secrets: [String] = []
    /// Lines in a block, and items of a type handed to the sink at a time, at most.
    package var pageSize = 5000
    /// Longest line, in bytes.
    package var maxLineBytes = 8 << 20
    /// Told, once the file was read, the selection's types the file has no coverage marker for
    /// (an export written without markers), so that a command can say why nothing of them
    /// can be missing.
    package var unmarkedTypesHandler: (@Sendable ([String]) -> Void)?

    package init(path: String) { self.path = path }

    package func enumerate(tenant: String, types: [PolicyType], into sink: any SourceSink) async {
        var pages = ExportPages(types: types, sink: sink, pageSize: pageSize)
        do {
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw SourceError(.exportLineInvalid, "cannot open export file \(path)")
            }
            defer { try? handle.close() }
            var reader = LineReader(handle: handle, maxLineBytes: maxLineBytes)
            let encoders = pages.encoders
            // A block holds at most a page of lines and a few MiB; two are held at a time (one
            // handled, one parsed), and a handled block's buffers are refilled by the next read.
            var block: [UInt8] = []
            var entries: [BlockEntry] = []
            // The first blocks are small, so that the first pages reach the sink at once.
            // A block's items are sent when it has been handled.
            var blockLines = max(1, pageSize / 8)
            var atEnd = false
            var parsing: Task<ParsedBlock, Never>?
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
                    if entries.count >= blockLines || block.count >= Self.blockBytes { break }
                }
                blockLines = min(pageSize, 2 * blockLines)
                let previous = await parsing?.value
                if !entries.isEmpty {
                    let (bytes, lines) = (block, entries)
                    parsing = Task { ParsedBlock(bytes: bytes, entries: lines, outcomes: Self.parse(lines, in: bytes, encoders: encoders)) }
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
                for index in done.entries.indices {
                    switch done.entries[index] {
                    case .tooLong(let number):
                        await pages.invalid(SourceError(.exportLineInvalid, "line \(number): longer than \(maxLineBytes) bytes"), of: nil)
                    case .line(_, let number):
                        if let outcome = done.outcomes[index].take() { try await pages.handle(outcome, line: number) }
                    }
                }
                recycled = (done.bytes, done.entries)
                try await pages.flushAll()
            }
        } catch let r as SinkRefused {
            // The store refused items (full disk, …): stop reading; the run already knows why.
            if r.record { await sink.record(r.error) }
            pages.allIncomplete = pages.allIncomplete ?? r.error
        } catch let e as SourceError {
            await sink.record(e)
            pages.allIncomplete = pages.allIncomplete ?? e
        } catch {
            let e = SourceError(.exportLineInvalid, "reading \(path): \(error)")
            await sink.record(e)
            pages.allIncomplete = pages.allIncomplete ?? e
        }
        let unmarked = await pages.checkCoverage()
        if !unmarked.isEmpty { unmarkedTypesHandler?(unmarked) }
        for t in types {
            let e = pages.incomplete[t.key] ?? pages.allIncomplete
            await sink.finishType(t, complete: e == nil, error: e)
        }
    }
}

extension OfflineExportSource {
    /// Bytes of lines parsed together, at most.
    static let blockBytes = 8 << 20

    /// Parses a block's lines on every core (`nil` for blank and too-long lines), encoding the
    /// items of `encoders`' types.
    fileprivate static func parse(_ entries: [BlockEntry], in block: [UInt8], encoders: [ObservationEncoder]) -> [LineOutcome?] {
        let keys = encoders.map(\.type.key)
        return block.withUnsafeBytes { all in
            ParallelMap.map(entries, state: { [UInt8]() }) { scratch, entry -> LineOutcome? in
                guard case .line(let range, _) = entry else { return nil }
                let b = UnsafeRawBufferPointer(rebasing: all[range])
                if b.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { return nil }
                do throws(ExportLine.Error) {
                    let parsed = try ExportLine.parse(b, scratch: &scratch) { key, object, members -> LineOutcome in
                        guard let t = keys.firstIndex(of: key) else { return .unwanted(policyType: key) }
                        return LineOutcome(type: t) { try encoders[t].encode(canonicalObject: object, members: members) }
                    }
                    switch parsed {
                    case .item(let outcome): return outcome
                    case .other(let line): return .line(line)
                    }
                } catch {
                    return .invalid(error)
                }
            }
        }
    }

    /// A block of lines and what parsing made of each (`nil`: nothing to handle).
    fileprivate struct ParsedBlock: Sendable {
        var bytes: [UInt8]
        var entries: [BlockEntry]
        var outcomes: [LineOutcome?]
    }

    /// A line of a block: its bytes within the block, or a line that was too long.
    fileprivate enum BlockEntry: Sendable {
        case line(Range<Int>, number: Int)
        case tooLong(number: Int)
    }
}

/// What the parallel pass made of one line.
enum LineOutcome: Sendable {
    /// An item of the selection's type at this index, encoded.
    case observed(type: Int, ObservationEncoder.Encoded)
    /// An item of that type the encoder refused.
    case rejected(type: Int, ItemObserved.Rejection)
    /// An item of that type whose event cannot be written.
    case unencodable(type: Int, message: String)
    /// An item of a type outside the selection.
    case unwanted(policyType: String)
    /// Any other valid line.
    case line(ExportLine)
    /// A line that cannot be used.
    case invalid(ExportLine.Error)

    /// What encoding an item of the type at index `type` made of it.
    init(type: Int, encoding encode: () throws -> ObservationEncoder.Encoded) {
        do {
            self = .observed(type: type, try encode())
        } catch let rejection as ItemObserved.Rejection {
            self = .rejected(type: type, rejection)
        } catch {
            self = .unencodable(type: type, message: "\(error)")
        }
    }
}

/// The sink refused a page; not an error of the export file.
struct SinkRefused: Error {
    var error: SourceError
    var record: Bool
}
