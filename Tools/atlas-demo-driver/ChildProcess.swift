import Foundation

/// A built tool (`atlas`, `graph-simulator`) run as a child process of the demo.
struct ChildProcess {
    /// The executable.
    var binary: URL
    /// The environment children run with.
    var environment: [String: String]

    /// The tool named `name` in the directory `directory`, checked to exist.
    init(_ name: String, in directory: URL, environment: [String: String]) throws {
        binary = directory.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw DemoFailure("\(binary.path) is not built (`swift build -c release --product \(name)`)")
        }
        self.environment = environment
    }

    /// Runs the tool with its output on this process's stdout and stderr; returns its exit code.
    @discardableResult
    func run(_ arguments: [String], allowedStatus: Set<Int32> = [0]) throws -> Int32 {
        fflush(nil)
        let p = process(arguments)
        try p.run()
        p.waitUntilExit()
        try check(p, arguments, allowedStatus)
        return p.terminationStatus
    }

    /// Runs the tool to its end and returns what it printed on stdout (stderr passes through).
    func capture(_ arguments: [String]) throws -> Data {
        fflush(nil)
        let p = process(arguments)
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        try check(p, arguments, [0])
        return data
    }

    /// Starts the tool with stdout on a pipe and returns it running.
    func start(_ arguments: [String]) throws -> (Process, Pipe) {
        let p = process(arguments)
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        return (p, out)
    }

    private func process(_ arguments: [String]) -> Process {
        let p = Process()
        p.executableURL = binary
        p.arguments = arguments
        p.environment = environment
        return p
    }

    private func check(_ p: Process, _ arguments: [String], _ allowed: Set<Int32>) throws {
        guard p.terminationReason == .exit, allowed.contains(p.terminationStatus) else {
            throw DemoFailure("\(binary.lastPathComponent) \(arguments.first ?? "") ended with status \(p.terminationStatus)")
        }
    }
}
