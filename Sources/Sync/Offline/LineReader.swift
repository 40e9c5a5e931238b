import Foundation
import Inventory

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
    private var chunk: [UInt8] = []
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
            // Read into one reused chunk (no `Data` per read), then append what was read.
            if chunk.isEmpty { chunk = [UInt8](repeating: 0, count: Self.chunkBytes) }
            let n = chunk.withUnsafeMutableBytes { b in
                var n: Int
                repeat { n = read(handle.fileDescriptor, b.baseAddress!, b.count) } while n < 0 && errno == EINTR
                return n
            }
            guard n >= 0 else {
                throw SourceError(.exportLineInvalid, "reading the export failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { eof = true } else { buffer.append(contentsOf: chunk[0..<n]) }
        }
    }
}
