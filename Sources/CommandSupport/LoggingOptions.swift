import ArgumentParser
import Logging

/// The `--log-level` option every command shares: log lines go to stderr, one per message,
/// with their time, level and label; stdout stays the command's output.
public struct LoggingOptions: ParsableArguments, Sendable {
    @Option(name: .long,
            help: ArgumentHelp("The least severe log level written to stderr: trace, debug, info, notice, warning, error or critical. "
                               + "Retries, throttling waits and token refreshes are logged at info; skipped runs and reclaimed dead runs at notice.",
                               valueName: "level"))
    public var logLevel: Logger.Level = .notice

    public init() {}

    /// The defaults, for a command without the group (`--log-level` absent means `.notice`).
    static var fallback: LoggingOptions {
        var o = LoggingOptions()
        o.logLevel = .notice
        return o
    }

    /// A logger with `label` that writes through the process's bootstrapped handler.
    public func logger(_ label: String) -> Logger { Logger(label: label) }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Something that carries the shared ``LoggingOptions`` (the `@OptionGroup` of a command).
protocol LoggingOptionsCarrier {
    var loggingOptions: LoggingOptions { get }
}

extension OptionGroup: LoggingOptionsCarrier where Value == LoggingOptions {
    var loggingOptions: LoggingOptions { wrappedValue }
}

extension LoggingOptions {
    /// The options of a parsed `command`, found among its `@OptionGroup`s, or the defaults.
    static func of(_ command: any ParsableCommand) -> LoggingOptions {
        for child in Mirror(reflecting: command).children {
            if let carrier = child.value as? any LoggingOptionsCarrier { return carrier.loggingOptions }
        }
        // Parsed, not `LoggingOptions()`: a default-constructed group holds definitions, and
        // reading its `logLevel` ends the process.
        return (try? LoggingOptions.parse([])) ?? LoggingOptions.fallback
    }

    /// Sends every logger of the process to stderr at this level; call once per process.
    func bootstrap() {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
