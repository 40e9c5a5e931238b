import AtlasTesting
import Foundation

/// Runs the built `atlas` executable as a real child process.
enum AtlasProcess {
    struct Ran {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Both outputs' bytes, for scans.
        var output: Data { Data((stdout + stderr).utf8) }
    }

    /// The environment of the test process without Atlas's credential variables, plus `extra`.
    static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var e = ProcessInfo.processInfo.environment
        e["ATLAS_CLIENT_ID"] = nil
        e["ATLAS_CLIENT_SECRET"] = nil
        e["ATLAS_STORE"] = nil
        return e.merging(extra) { $1 }
    }

    /// The built `atlas-replay` executable beside `atlas`.
    static var replayBinary: String {
        URL(fileURLWithPath: CrossProcessRunTests.atlasBinary).deletingLastPathComponent().appendingPathComponent("atlas-replay").path
    }

    /// Starts `atlas ARGS` (or another built tool, `binary`) with `environment`, its outputs on pipes.
    static func start(_ args: [String], environment: [String: String] = environment(),
                      binary: String = CrossProcessRunTests.atlasBinary) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        p.environment = environment
        p.standardOutput = Pipe()
        p.standardError = Pipe()
        try p.run()
        return p
    }

    /// Waits for a process `start` began and returns what it printed, off the cooperative pool
    /// (which the in-process Graph simulator needs while the child talks to it).
    static func finish(_ p: Process) async -> Ran {
        let r = await ChildOutput.collect(p)
        return Ran(status: r.status, stdout: String(decoding: r.stdout, as: UTF8.self), stderr: String(decoding: r.stderr, as: UTF8.self))
    }

    /// Runs `atlas ARGS` (or `binary ARGS`) to its end.
    static func run(_ args: [String], environment: [String: String] = environment(),
                    binary: String = CrossProcessRunTests.atlasBinary) async throws -> Ran {
        await finish(try start(args, environment: environment, binary: binary))
    }
}
