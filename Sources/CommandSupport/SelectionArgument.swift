import Foundation
package import Inventory

/// Reads a selection given as JSON text or `@FILE`.
package enum SelectionArgument {
    /// Parses `argument`; bad JSON, unknown keys or wrong types are usage errors naming the key.
    package static func parse(_ argument: String) throws -> SelectionParser.Result {
        var text = argument
        if argument.hasPrefix("@") {
            let path = String(argument.dropFirst())
            let data = try FileArgument.read(path, role: "selection file", limit: FileArgument.selectionLimit)
            guard let s = String(validating: data, as: UTF8.self) else { throw CommandFailure.usage("selection file \(path) is not UTF-8") }
            text = s
        }
        do {
            return try SelectionParser.parse(text)
        } catch {
            throw CommandFailure.usage(error.message)
        }
    }

    /// Tells stderr what normalization dropped.
    package static func reportDropped(_ result: SelectionParser.Result) {
        if !result.droppedPolicyTypes.isEmpty {
            FileHandle.standardError.write(Data("warning: dropped unsupported policy types: \(result.droppedPolicyTypes.joined(separator: ", "))\n".utf8))
        }
        if !result.droppedCategories.isEmpty {
            FileHandle.standardError.write(Data("warning: dropped unknown categories: \(result.droppedCategories.joined(separator: ", "))\n".utf8))
        }
    }
}
