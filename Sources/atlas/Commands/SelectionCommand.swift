import ArgumentParser
import CanonicalJSON
import CommandSupport

struct SelectionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selection", abstract: "Work with selections.", subcommands: [Hash.self])

    struct Hash: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a selection's canonical form, its hash and what normalization dropped.")

        @Option(help: "The selection as JSON, or @FILE.")
        var selection: String

        @OptionGroup var logging: LoggingOptions

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            let parsed = try SelectionArgument.parse(selection)
            let s = parsed.selection
            if json {
                Output.json(.object([
                    "canonical": .string(s.canonicalText), "selection_hash": .string(s.hash), "selection": s.json,
                    "resolved_types": .array(s.resolvedTypes.map { .string($0.key) }),
                    "dropped": .object(["policy_types": .array(parsed.droppedPolicyTypes.map { .string($0) }),
                                        "categories": .array(parsed.droppedCategories.map { .string($0) })]),
                ]))
            } else {
                print("canonical:      \(s.canonicalText)")
                print("selection_hash: \(s.hash)")
                print("resolved types: \(s.resolvedTypes.map(\.key).joined(separator: ", "))")
                if !parsed.droppedPolicyTypes.isEmpty { print("dropped policy types: \(parsed.droppedPolicyTypes.joined(separator: ", "))") }
                if !parsed.droppedCategories.isEmpty { print("dropped categories: \(parsed.droppedCategories.joined(separator: ", "))") }
            }
        }
    }
}
