import EventLog
import Inventory

/// What an offline read collects for its sink, line by line in file order: each type's page
/// (objects, or observations when the sink encodes), the types a line made incomplete, and
/// the errors the sink is told about.
struct ExportPages {
    let types: [PolicyType]
    let sink: any SourceSink
    let pageSize: Int
    /// The sink's encoders, by type index; empty when the sink does not encode.
    let encoders: [ObservationEncoder]
    private var objects: [[GraphObject]]
    private var observations: [[ObservationEncoder.Encoded]]
    private var rejected: [[String]]
    /// Type indices in type-key order: the order pages are sent in.
    private let flushOrder: [Int]
    /// Types a line made incomplete, with the first such error.
    var incomplete: [String: SourceError] = [:]
    /// Set when a line that might have held any type's item was unusable.
    var allIncomplete: SourceError?

    init(types: [PolicyType], sink: any SourceSink, pageSize: Int) {
        self.types = types
        self.sink = sink
        self.pageSize = pageSize
        encoders = (sink as? any EncodingSourceSink).map { s in types.map { s.observationEncoder(for: $0) } } ?? []
        objects = types.map { _ in [] }
        observations = types.map { _ in [] }
        rejected = types.map { _ in [] }
        flushOrder = types.indices.sorted { types[$0].key < types[$1].key }
    }

    private func index(of key: String) -> Int? { types.firstIndex { $0.key == key } }

    /// Handles the outcome of line `number`.
    mutating func handle(_ outcome: LineOutcome, line number: Int) async throws {
        switch outcome {
        case .observed(let t, let observation):
            observations[t].append(observation)
            if observations[t].count >= pageSize { try await flush(t) }
        case .rejected(let t, let message):
            rejected[t].append("line \(number): \(message)")
        case .unencodable(let t, let message):
            throw SinkRefused(error: SourceError(.internalError, policyType: types[t].key,
                                                 "line \(number): the observation cannot be written: \(message)"), record: true)
        case .unwanted(let key):
            await unwanted(key, line: number)
        case .invalid(let error):
            await invalid(SourceError(.exportLineInvalid, policyType: error.policyType, "line \(number): \(error.message)"),
                          of: error.policyType)
        case .line(.item(let key, let item)):
            guard let t = index(of: key) else { return await unwanted(key, line: number) }
            objects[t].append(item)
            if objects[t].count >= pageSize { try await flush(t) }
        case .line(.failed(let key, let code, let message)):
            guard index(of: key) != nil else { return }
            let e = SourceError(.exportTypeFailed, policyType: key, "line \(number): exporter failed (\(code)): \(message)")
            await sink.record(e)
            incomplete[key] = incomplete[key] ?? e
        }
    }

    /// A line that cannot be used: its type (when it could be read) is incomplete, or every
    /// type when it could not.
    mutating func invalid(_ e: SourceError, of key: String?) async {
        await sink.record(e)
        if let key {
            if index(of: key) != nil { incomplete[key] = incomplete[key] ?? e }
        } else {
            allIncomplete = allIncomplete ?? e
        }
    }

    /// An item of a type outside the selection: ignored, unless no such type is supported.
    private func unwanted(_ key: String, line number: Int) async {
        if PolicyTypeRegistry.type(key) == nil {
            await sink.record(SourceError(.exportUnknownType, "line \(number): unsupported policy type \"\(key.prefix(100))\""))
        }
    }

    /// Sends type `t`'s page to the sink.
    mutating func flush(_ t: Int) async throws {
        let type = types[t]
        do {
            if !observations[t].isEmpty || !rejected[t].isEmpty, let sink = sink as? any EncodingSourceSink {
                let (page, messages) = (observations[t], rejected[t])
                observations[t] = []
                rejected[t] = []
                try await sink.receive(encoded: page, rejected: messages, of: type)
            }
            if !objects[t].isEmpty {
                let page = objects[t]
                objects[t] = []
                try await sink.receive(page, of: type)
            }
        } catch let e as SourceError {
            throw SinkRefused(error: e, record: false)
        } catch let e as EventLogError where e.code == .storageFull {
            throw SinkRefused(error: SourceError(.storeFull, policyType: type.key, "the store refused a page: \(e)"), record: true)
        } catch {
            throw SinkRefused(error: SourceError(.internalError, policyType: type.key, "the sink refused a page: \(error)"), record: true)
        }
    }

    /// Sends every page left, in type-key order.
    mutating func flushAll() async throws {
        for t in flushOrder { try await flush(t) }
    }
}
