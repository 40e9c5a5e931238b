import AsyncHTTPClient
import CanonicalJSON
import Foundation
import GraphSimulator
import NIOCore
import NIOHTTP1

/// A running `graph-simulator` process, changed through its `/_sim/` control endpoints.
final class SimulatorProcess {
    /// The simulator's base URL, e.g. `http://127.0.0.1:54321`; Graph and the token endpoint both live there.
    let baseURL: String
    private let process: Process
    private let client = HTTPClient(eventLoopGroupProvider: .singleton)

    /// Starts `tool` on a free loopback port with the tenants in `seedFile` and waits until it
    /// prints `listening on URL`.
    init(_ tool: ChildProcess, seedFile: String) throws {
        let (process, out) = try tool.start(["--seed", seedFile, "--port", "0"])
        self.process = process
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += chunk
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("listening on ") else {
            process.terminate()
            process.waitUntilExit()
            throw DemoFailure("graph-simulator did not start (it printed \"\(text)\")")
        }
        baseURL = String(text.dropFirst("listening on ".count))
    }

    /// The id of the first item of a tenant's collection (`path` like `/beta/deviceManagement/…`).
    func firstItemID(tenant: String, path: String) async throws -> String {
        let reply = try await call(.GET, "/_sim/items", query: ["tenant": tenant, "path": path])
        guard let id = reply["value"]?.arrayValue?.first?["id"]?.stringValue else {
            throw DemoFailure("the simulator has no items in \(path) of \(tenant)")
        }
        return id
    }

    /// Removes one item from a tenant's collection.
    func removeItem(tenant: String, path: String, id: String) async throws {
        let reply = try await call(.DELETE, "/_sim/items", query: ["tenant": tenant, "path": path, "id": id])
        guard reply["removed"]?.boolValue == true else { throw DemoFailure("the simulator did not remove \(id) from \(path) of \(tenant)") }
    }

    /// Arms `fault` on a tenant's collection.
    func addFault(tenant: String, path: String, _ fault: SimulatedFault) async throws {
        _ = try await call(.POST, "/_sim/faults", body: ["tenant": .string(tenant), "path": .string(path), "fault": fault.jsonValue])
    }

    /// Stops the simulator (SIGTERM) and waits for it to exit.
    func stop() async {
        try? await client.shutdown()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    private func call(_ method: HTTPMethod, _ path: String, query: [String: String] = [:], body: JSONValue? = nil) async throws -> JSONValue {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?")
        let q = query.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.value)" }
            .joined(separator: "&")
        var request = HTTPClientRequest(url: baseURL + path + (q.isEmpty ? "" : "?" + q))
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try CanonicalJSON.serialize(body)))
        }
        let response = try await client.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        let value = try JSONParser().parse(Array(bytes.readableBytesView))
        guard response.status == .ok else {
            throw DemoFailure("simulator \(method.rawValue) \(path): \(response.status.code) \(value["error"]?.stringValue ?? "")")
        }
        return value
    }
}
