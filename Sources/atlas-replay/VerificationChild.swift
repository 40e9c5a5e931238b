import CommandSupport
import Foundation
import ReplayKit

/// The write end of the pipe the signal handler reports to (set once, before the handlers).
nonisolated(unsafe) private var signalPipe: Int32 = -1

/// Runs `atlas-replay verify-child` as a child process and supervises it: the child's progress
/// arrives as lines on its stdout, each step must report within a timeout, and a child that dies
/// by a signal (a damaged LMDB page: SIGSEGV, SIGBUS, SIGABRT) or stops reporting is reported as
/// page damage instead of taking the report down. The scratch store is removed on every exit
/// path, SIGINT and SIGTERM included.
// @unchecked Sendable: `buffer`, `finished` and `child` are shared with its reader and signal
// threads under `lock`; `reached` and `lastStep` are touched only by the thread in `run`.
final class VerificationChild: @unchecked Sendable {
    /// One line of the child's report channel.
    enum Message: Equatable {
        /// Events checked through the first number, of the second.
        case progress(UInt64, UInt64)
        /// A later step started.
        case step(String)
        /// The report follows, as the command prints it.
        case output

        var line: String {
            switch self {
            case let .progress(d, e): "P \(d) \(e)"
            case let .step(s): "S \(s.replacingOccurrences(of: "\n", with: " "))"
            case .output: "O"
            }
        }

        init?(line: Substring) {
            if line == "O" { self = .output; return }
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            switch parts[0] {
            case "P":
                let n = parts[1].split(separator: " ")
                guard n.count == 2, let d = UInt64(n[0]), let e = UInt64(n[1]) else { return nil }
                self = .progress(d, e)
            case "S": self = .step(String(parts[1]))
            default: return nil
            }
        }
    }

    /// How the child ended.
    enum Outcome {
        /// It exited with `status` after printing `output` (the report); `nil` when it ended
        /// before reporting.
        case exited(status: Int32, output: Data?)
        /// It died by `signal`.
        case killed(signal: Int32)
        /// A step made no progress within the timeout; the child was killed.
        case timedOut
    }

    // MARK: Child side

    /// Writes one message to the parent (stdout, unbuffered).
    static func send(_ message: Message) {
        FileHandle.standardOutput.write(Data((message.line + "\n").utf8))
    }

    /// Exits (removing `scratch`) as soon as stdin, the parent's end of a pipe, closes: the
    /// parent was killed, so nobody is left to read the report or remove the scratch store.
    static func exitWhenParentGoes(removing scratch: String) {
        let thread = Thread {
            var byte: UInt8 = 0
            while true {
                let n = read(0, &byte, 1)
                if n == 0 || (n < 0 && errno != EINTR) { break }
            }
            try? FileManager.default.removeItem(atPath: scratch)
            _exit(1)
        }
        thread.start()
    }

    // MARK: Parent side

    let arguments: [String]
    let scratch: String
    let stepTimeout: TimeInterval
    /// The last progress reported, and the last step.
    private(set) var reached: (UInt64, UInt64) = (0, 0)
    private(set) var lastStep: String?

    private let lock = NSLock()
    private let arrived = DispatchSemaphore(value: 0)
    private var buffer = Data()
    private var finished = false
    private var child: Process?

    init(arguments: [String], scratch: String, stepTimeout: TimeInterval) {
        self.arguments = arguments
        self.scratch = scratch
        self.stepTimeout = stepTimeout
    }

    /// The running executable, to re-execute as the child.
    static var executable: URL {
        FileManager.default.fileExists(atPath: "/proc/self/exe")
            ? URL(fileURLWithPath: "/proc/self/exe") : URL(fileURLWithPath: Bundle.main.executablePath ?? CommandLine.arguments[0])
    }

    /// Runs the child to its end, calling `progress` as it reports.
    func run(progress: (UInt64, UInt64) -> Void) throws -> Outcome {
        let p = Process()
        p.executableURL = Self.executable
        p.arguments = arguments
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = FileHandle.standardError
        let signals = installSignalHandlers()
        defer {
            for s in signals { signal(s, SIG_DFL) }
            try? FileManager.default.removeItem(atPath: scratch)
        }
        lock.lock()
        child = p
        lock.unlock()
        try p.run()
        let reader = output.fileHandleForReading
        let thread = Thread { [self] in
            while true {
                let d = reader.availableData
                lock.lock()
                if d.isEmpty { finished = true } else { buffer.append(d) }
                lock.unlock()
                arrived.signal()
                if d.isEmpty { return }
            }
        }
        thread.start()

        var lines = Data()
        var report: Data?
        while true {
            if arrived.wait(timeout: .now() + stepTimeout) == .timedOut {
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
                return .timedOut
            }
            lock.lock()
            let chunk = buffer
            buffer.removeAll()
            let done = finished
            lock.unlock()
            if report != nil { report!.append(chunk) } else {
                lines.append(chunk)
                while report == nil, let nl = lines.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: lines[lines.startIndex..<nl], as: UTF8.self)
                    lines = Data(lines[(nl + 1)...])
                    switch Message(line: line[...]) {
                    case let .progress(d, e)?: reached = (d, e); progress(d, e)
                    case let .step(s)?: lastStep = s
                    case .output?: report = lines
                    case nil: break
                    }
                }
            }
            if done { break }
        }
        p.waitUntilExit()
        try? input.fileHandleForWriting.close()
        if p.terminationReason == .uncaughtSignal { return .killed(signal: p.terminationStatus) }
        return .exited(status: p.terminationStatus, output: report)
    }

    /// On SIGINT, SIGTERM or SIGHUP: kill the child, remove the scratch store, exit 128 + the
    /// signal. The handler only writes the signal's number to a pipe (all a handler may safely
    /// do); a thread reading that pipe does the rest.
    private func installSignalHandlers() -> [Int32] {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return [] }
        signalPipe = fds[1]
        let readEnd = fds[0]
        let thread = Thread { [self] in
            var sig: Int32 = 0
            while read(readEnd, &sig, MemoryLayout<Int32>.size) < 0 && errno == EINTR {}
            lock.lock()
            let pid = child?.processIdentifier ?? 0
            lock.unlock()
            if pid > 0 { kill(pid, SIGKILL) }
            try? FileManager.default.removeItem(atPath: scratch)
            FileHandle.standardError.write(Data("error: verify interrupted by signal \(sig); its scratch store was removed\n".utf8))
            _exit(128 + sig)
        }
        thread.start()
        let signals = [SIGINT, SIGTERM, SIGHUP]
        for sig in signals {
            signal(sig) { s in
                var n = s
                _ = write(signalPipe, &n, MemoryLayout<Int32>.size)
            }
        }
        return signals
    }

    /// The name of a signal, for messages.
    static func name(of signal: Int32) -> String {
        switch signal {
        case SIGSEGV: "SIGSEGV"
        case SIGBUS: "SIGBUS"
        case SIGABRT: "SIGABRT"
        case SIGILL: "SIGILL"
        case SIGTRAP: "SIGTRAP"
        case SIGKILL: "SIGKILL"
        case SIGFPE: "SIGFPE"
        default: "signal \(signal)"
        }
    }
}
