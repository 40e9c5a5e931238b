import CommandSupport
import EventLog
import Foundation
import ReplayKit
import Synchronization

/// Runs `body`, turning ReplayKit's errors into command failures with Atlas's exit codes.
func replayCommand<R>(_ body: () async throws -> R) async throws -> R {
    do { return try await body() } catch let e as ReplayUsageError {
        throw CommandFailure.usage(e.message)
    } catch let e as ReplayFailure {
        throw CommandFailure(e.message)
    }
}

/// A one-line progress display on stderr, only when stderr is a terminal.
final class TerminalProgress: Sendable {
    let label: String
    let enabled: Bool
    /// When the line was last drawn, and whether one is on the screen.
    private let drawn = Mutex<(last: UInt64, visible: Bool)>((0, false))

    init(_ label: String, enabled: Bool = isatty(2) == 1) {
        self.label = label
        self.enabled = enabled
    }

    func update(_ done: UInt64, _ total: UInt64, label override: String? = nil) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        drawn.withLock { drawn in
            guard done >= total || now - drawn.last > 100_000_000 else { return }
            drawn = (now, true)
            let pct = total == 0 ? 100 : Int(Double(done) / Double(total) * 100)
            FileHandle.standardError.write(Data("\r\u{1B}[K\(override ?? label): \(done)/\(total) events (\(pct)%)".utf8))
        }
    }

    func finish() {
        drawn.withLock { drawn in
            if drawn.visible { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            drawn.visible = false
        }
    }
}

/// Parses `--time`: RFC 3339.
func parseTime(_ text: String) -> Timestamp? { Timestamp(rfc3339: text) }
