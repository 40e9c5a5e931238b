import ArgumentParser
import CommandSupport

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

    func validate() throws {
        guard attempts >= 1 && attempts <= 100 else { throw ValidationError("--attempts must be 1…100") }
    }

    /// The same options as command-line arguments, for the child process.
    var arguments: [String] {
        var a = ["--store", store.path, "--attempts", String(attempts)]
        if json { a.append("--json") }
        if logOnly { a.append("--log-only") }
        if let scratchDir { a += ["--scratch-dir", scratchDir] }
        return a
    }
}
