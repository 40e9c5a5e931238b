import CanonicalJSON
import Foundation

/// The `projections` record of one projection: its active generation and, while a rebuild
/// runs, the generation being built.
struct ProjectionRecord: Sendable, Hashable {
    struct Building: Sendable, Hashable {
        var generation: Int
        var version: Int
        var checkpoint: UInt64
        var pid: Int32
    }

    var version: Int
    var generation: Int
    var checkpoint: UInt64
    var building: Building?

    func encoded() -> [UInt8] {
        var o: [String: JSONValue] = [
            "version": .number(Double(version)),
            "generation": .number(Double(generation)),
            "checkpoint": .number(Double(checkpoint)),
        ]
        if let b = building {
            o["building"] = .object([
                "generation": .number(Double(b.generation)), "version": .number(Double(b.version)),
                "checkpoint": .number(Double(b.checkpoint)), "pid": .number(Double(b.pid)),
            ])
        }
        return (try? CanonicalJSON.serialize(.object(o))) ?? []
    }

    init(version: Int, generation: Int, checkpoint: UInt64, building: Building? = nil) {
        self.version = version
        self.generation = generation
        self.checkpoint = checkpoint
        self.building = building
    }

    init(decoding bytes: UnsafeRawBufferPointer, name: String) throws(EventLogError) {
        let v: JSONValue
        do { v = try JSONParser().parse(bytes) } catch {
            throw EventLogError(.corruptEvent, "projection record of \(name) is not JSON: \(error)")
        }
        guard let version = v["version"]?.intValue, let generation = v["generation"]?.intValue,
              let checkpoint = v["checkpoint"]?.int64Value, checkpoint >= 0
        else { throw EventLogError(.corruptEvent, "projection record of \(name) is malformed") }
        self.version = version
        self.generation = generation
        self.checkpoint = UInt64(checkpoint)
        if let b = v["building"], let g = b["generation"]?.intValue, let bv = b["version"]?.intValue,
           let c = b["checkpoint"]?.int64Value, let pid = b["pid"]?.intValue {
            building = Building(generation: g, version: bv, checkpoint: UInt64(max(0, c)), pid: Int32(pid))
        }
    }
}

extension ProjectionRecord.Building {
    /// Whether the process that started the rebuild is still alive on this host.
    var ownerAlive: Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }
}
