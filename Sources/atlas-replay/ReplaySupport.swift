import CommandSupport
import EventLog
import Foundation
import ReplayKit

/// Runs `body`, turning ReplayKit's errors into command failures with Atlas's exit codes.
func replayCommand<R>(_ body: () async throws -> R) async throws -> R {
    do { return try await body() } catch let e as ReplayUsageError {
        throw CommandFailure.usage(e.message)
    } catch let e as ReplayFailure {
        throw CommandFailure(e.message)
    }
}

/// A one-line progress display on stderr, only when stderr is a terminal.
final class TerminalProgress: @unchecked Sendable {
    let label: String
    let enabled: Bool
    private let lock = NSLock()
    private var lastDraw: UInt64 = 0
    private var drew = false

    init(_ label: String, enabled: Bool = isatty(2) == 1) {
        self.label = label
        self.enabled = enabled
    }

    func update(_ done: UInt64, _ total: UInt64, label override: String? = nil) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        lock.lock()
        defer { lock.unlock() }
        guard done >= total || now - lastDraw > 100_000_000 else { return }
        lastDraw = now
        drew = true
        let pct = total == 0 ? 100 : Int(Double(done) / Double(total) * 100)
        FileHandle.standardError.write(Data("\r\u{1B}[K\(override ?? label): \(done)/\(total) events (\(pct)%)".utf8))
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if drew { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        drew = false
    }
}

/// Parses `--time`: RFC 3339.
func parseTime(_ text: String) -> Timestamp? { Timestamp(rfc3339: text) }
