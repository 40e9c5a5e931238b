import Foundation

/// A malformed command line.
struct ArgumentError: Error {
    var message: String
}

/// `--name value` options and `--flag` switches, parsed by hand (no dependencies).
struct Arguments {
    private var values: [String: String] = [:]
    private var flags: Set<String> = []

    /// Parses `arguments`; `flagNames` take no value, `optionNames` take exactly one.
    init(_ arguments: [String], options optionNames: Set<String>, flags flagNames: Set<String> = []) throws {
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            guard a.hasPrefix("--") else { throw ArgumentError(message: "unexpected argument \(a)") }
            let key = String(a.dropFirst(2))
            if flagNames.contains(key) {
                flags.insert(key)
                i += 1
            } else if optionNames.contains(key) {
                guard i + 1 < arguments.count else { throw ArgumentError(message: "\(a) needs a value") }
                values[key] = arguments[i + 1]
                i += 2
            } else {
                throw ArgumentError(message: "unknown option \(a)")
            }
        }
    }

    func flag(_ name: String) -> Bool { flags.contains(name) }

    func string(_ name: String) throws -> String {
        guard let v = values[name] else { throw ArgumentError(message: "--\(name) is required") }
        return v
    }

    func string(_ name: String, default d: String) -> String { values[name] ?? d }

    func int(_ name: String, default d: Int? = nil) throws -> Int {
        guard let v = values[name] else {
            if let d { return d }
            throw ArgumentError(message: "--\(name) is required")
        }
        guard let n = Int(v), n >= 0 else { throw ArgumentError(message: "--\(name) must be a non-negative integer, not \(v)") }
        return n
    }
}

/// Writes a line to stdout and flushes it, so a parent reading a pipe sees it at once.
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
