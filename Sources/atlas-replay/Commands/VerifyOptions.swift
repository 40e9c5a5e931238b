import ArgumentParser
import CommandSupport
import Foundation
import ReplayKit

/// The options `verify` shares with the child process it runs the checks in.
struct VerifyOptions: ParsableArguments {
    @OptionGroup var store: StoreOptions
    @Flag(help: "Print the report as JSON.") var json = false
    @Flag(name: .customLong("log-only"), help: "Check the log only; do not rebuild and compare the projections.")
    var logOnly = false
    @Option(name: .customLong("scratch-dir"), help: "Where to create the temporary rebuild store (default: the system temporary directory).")
    var scratchDir: String?
    @Option(help: "How many times to retry the projection comparison at a newer head while a writer appends.")
    var attempts = 5
    @Option(name: .customLong("checkpoint"), help: "A signed checkpoint file (from `atlas-replay checkpoint`) the log must match; repeatable.")
    var checkpoints: [String] = []
    @Option(name: .customLong("public-key"), help: "The public key the checkpoints must be signed by: 64 hex characters, or @FILE (such as the key's .pub file).")
    var publicKey: String?

    func validate() throws {
        guard attempts >= 1 && attempts <= 100 else { throw ValidationError("--attempts must be 1…100") }
        if publicKey != nil && checkpoints.isEmpty { throw ValidationError("--public-key needs at least one --checkpoint") }
    }

    /// The same options as command-line arguments, for the child process.
    var arguments: [String] {
        var a = ["--store", store.path, "--attempts", String(attempts)]
        if json { a.append("--json") }
        if logOnly { a.append("--log-only") }
        if let scratchDir { a += ["--scratch-dir", scratchDir] }
        for c in checkpoints { a += ["--checkpoint", c] }
        if let publicKey { a += ["--public-key", publicKey] }
        return a
    }
}

extension VerifyOptions {
    /// Reads and parses every `--checkpoint` file: a usage error (exit 2) naming the file and
    /// the problem when one cannot be read or parsed.
    func loadCheckpoints() throws -> [(name: String, checkpoint: Checkpoint)] {
        try checkpoints.map { path in
            let data = try FileArgument.read(path, role: "checkpoint", limit: FileArgument.checkpointLimit)
            do { return (path, try Checkpoint.parse(data)) } catch let error as CheckpointError {
                throw CommandFailure.usage("checkpoint \(path): \(error.message)")
            }
        }
    }

    /// The `--public-key`, decoded: a usage error (exit 2) when malformed.
    func pinnedKey() throws -> [UInt8]? {
        guard let publicKey else { return nil }
        var text = publicKey
        if publicKey.hasPrefix("@") {
            let path = String(publicKey.dropFirst())
            let data = try FileArgument.read(path, role: "--public-key file", limit: FileArgument.publicKeyLimit)
            text = String(decoding: data, as: UTF8.self)
        }
        do { return try Checkpoint.parsePublicKey(text) } catch {
            throw CommandFailure.usage("--public-key: \(error.message)")
        }
    }
}
