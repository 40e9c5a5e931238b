/// Errors the simulator's Swift API throws.
package enum SimulatorError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A seed file or seed JSON is malformed.
    case invalidSeed(String)
    /// A fault description is malformed.
    case invalidFault(String)
    /// The server is already running or not running.
    case invalidState(String)
    /// The server failed to bind or stopped before it was running.
    case startFailed(String)

    package var description: String {
        switch self {
        case .invalidSeed(let m): "invalid seed: \(m)"
        case .invalidFault(let m): "invalid fault: \(m)"
        case .invalidState(let m): "invalid state: \(m)"
        case .startFailed(let m): "start failed: \(m)"
        }
    }
}
