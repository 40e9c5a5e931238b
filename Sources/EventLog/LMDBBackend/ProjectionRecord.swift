import CanonicalJSON
import Foundation

/// The `projections` record of one projection: its active generation and, while a rebuild
/// runs, the generation being built.
struct ProjectionRecord: Sendable, Hashable {
    struct Building: Sendable, Hashable {
        var generation: Int
        var version: Int
        var checkpoint: UInt64
        /// The process running the rebuild.
        var owner: ProcessIdentity
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
            o["building"] = .object(b.owner.jsonMembers.merging([
                "generation": .number(Double(b.generation)), "version": .number(Double(b.version)),
                "checkpoint": .number(Double(b.checkpoint)),
            ]) { a, _ in a })
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
           let c = b["checkpoint"]?.int64Value, let owner = ProcessIdentity(json: b) {
            building = Building(generation: g, version: bv, checkpoint: UInt64(max(0, c)), owner: owner)
        }
    }
}

extension ProjectionRecord.Building {
    /// Whether the process that started the rebuild may still be running it.
    ///
    /// Judged by ``ProcessIdentity/liveness()``: PID and start time in this boot and PID
    /// namespace. An owner of another boot is gone (the machine restarted). An owner of another
    /// PID namespace does not hold the store: an open refuses a store a process of another
    /// namespace holds (see `StoreFence`), and this process holds it. A record of an older
    /// build names only a PID, checked with `kill(pid, 0)`.
    var ownerAlive: Bool {
        switch owner.liveness() {
        case .alive: return true
        case .dead: return false
        case .unknown:
            if owner.isComplete { return false }
            return owner.pid > 0 && (kill(owner.pid, 0) == 0 || errno == EPERM)
        }
    }

    /// Whether this process started the rebuild (by PID alone for a record of an older build).
    var ownedByThisProcess: Bool {
        owner.isComplete ? owner == .current : owner.pid == getpid()
    }
}
