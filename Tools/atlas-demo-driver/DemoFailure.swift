/// Why the demo stopped.
struct DemoFailure: Error, CustomStringConvertible {
    /// What went wrong, for the terminal.
    var description: String

    init(_ description: String) { self.description = description }
}
