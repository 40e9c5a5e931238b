// atlas-bench: benchmarks that print figures. Each subcommand lives in its own file.
let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "replay": try await ReplayBenchmark.main(Array(arguments.dropFirst()))
default: print("usage: atlas-bench replay [options]")
}
