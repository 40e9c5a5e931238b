import Hummingbird

/// The request context: Hummingbird's core storage plus a way to close the connection, so a
/// fault can drop it without answering.
struct SimulatorRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    private let close: @Sendable () async -> Void

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        let channel = source.channel
        close = { try? await channel.close() }
    }

    /// Closes the client connection.
    func closeConnection() async {
        await close()
    }
}
