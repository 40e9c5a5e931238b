public import ArgumentParser
package import Logging

/// The `--log-level` option every command shares: log lines go to stderr, one per message,
/// with their time, level and label; stdout stays the command's output.
package struct LoggingOptions: ParsableArguments, Sendable {
    @Option(name: .long,
            help: ArgumentHelp("The least severe log level written to stderr: trace, debug, info, notice, warning, error or critical. "
                               + "Retries, throttling waits and token refreshes are logged at info; skipped runs and reclaimed dead runs at notice.",
                               valueName: "level"))
    package var logLevel: Logger.Level = .notice

    package init() {}

    /// A logger with `label` that writes through the process's bootstrapped handler.
    package func logger(_ label: String) -> Logger { Logger(label: label) }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// The `@OptionGroup` of a command that holds the shared ``LoggingOptions``.
protocol LoggingOptionsCarrier {
    var loggingOptions: LoggingOptions { get }
}

extension OptionGroup: LoggingOptionsCarrier where Value == LoggingOptions {
    var loggingOptions: LoggingOptions { wrappedValue }
}

extension LoggingOptions {
    /// The level of a parsed `command`, from its own `LoggingOptions` group, or `notice` for a
    /// command without one. (A `LoggingOptions()` made here would hold no parsed value to read.)
    static func level(of command: any ParsableCommand) -> Logger.Level {
        for child in Mirror(reflecting: command).children {
            if let carrier = child.value as? any LoggingOptionsCarrier { return carrier.loggingOptions.logLevel }
        }
        return .notice
    }

    /// Sends every logger of the process to stderr at `level`; call once per process.
    static func bootstrap(_ level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
