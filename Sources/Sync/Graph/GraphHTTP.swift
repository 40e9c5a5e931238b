import Foundation
import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// One HTTP exchange with a body limit and a deadline, with failures classified.
enum GraphHTTP {
    /// A complete response.
    struct Response: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    static func send(_ request: HTTPClientRequest, client: HTTPClient, timeout: Duration, maxBytes: Int)
        async throws(GraphTransportFailure) -> Response
    {
        if Task.isCancelled { throw .cancelled }
        let nanos = Int64(min(timeout.inSeconds, 86_400) * 1e9)
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(nanos))
            if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > maxBytes {
                throw GraphTransportFailure.tooLarge(limit: maxBytes)
            }
            let buffer = try await response.body.collect(upTo: maxBytes)
            return Response(status: Int(response.status.code), headers: response.headers,
                            body: buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? [])
        } catch let failure as GraphTransportFailure {
            throw failure
        } catch is NIOTooManyBytesError {
            throw .tooLarge(limit: maxBytes)
        } catch {
            if Task.isCancelled || error is CancellationError { throw .cancelled }
            if let e = error as? HTTPClientError, e == .cancelled { throw .cancelled }
            throw .connection(describe(error))
        }
    }

    /// A description of a transport error (never headers: the error types carry none). Not
    /// cut here: whoever keeps or prints it redacts it first, then bounds it.
    static func describe(_ error: any Error) -> String {
        if let e = error as? HTTPClientError { return "\(e)" }
        // A system call's failure (a refused connection): its errno, readably.
        if let e = error as? IOError { return "\(String(cString: strerror(e.errnoCode)).lowercased()) (errno \(e.errnoCode))" }
        return String(describing: error)
    }
}
