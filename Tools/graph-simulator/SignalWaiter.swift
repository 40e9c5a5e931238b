import Dispatch
import Foundation

/// Waits for one of a set of Unix signals, which no longer terminate the process once it exists.
final class SignalWaiter: Sendable {
    private let stream: AsyncStream<Int32>
    private nonisolated(unsafe) let sources: [any DispatchSourceSignal]

    /// Starts catching `signals`.
    init(signals: [Int32]) {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        self.stream = stream
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
    }

    /// Returns when the first caught signal arrives.
    func wait() async {
        for await _ in stream { return }
    }
}
