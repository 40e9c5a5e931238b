import EventLog
import Inventory

/// What an offline read collects for its sink, line by line in file order: each type's page
/// (observations and refused items), each type's item lines and coverage marker, the types a
/// line made incomplete, and the errors the sink is told about.
struct ExportPages {
    let types: [PolicyType]
    let sink: any SourceSink
    let pageSize: Int
    /// The sink's encoders, by type index.
    let encoders: [ObservationEncoder]
    private var pages: [ObservationPage]
    /// Type indices in type-key order: the order pages are sent in.
    private let flushOrder: [Int]
    /// Types a line made incomplete, with the first such error.
    var incomplete: [String: SourceError] = [:]
    /// Set when a line that might have held any type's item was unusable.
    var allIncomplete: SourceError?
    /// Item lines read, by type index (usable or not as items: the marker counts lines).
    private var itemLines: [Int]
    /// Each type's `enumerated` marker, by type index: its line and the count it states.
    private var markers: [(line: Int, count: Int)?]

    init(types: [PolicyType], sink: any SourceSink, pageSize: Int) {
        self.types = types
        self.sink = sink
        self.pageSize = pageSize
        encoders = types.map { sink.observationEncoder(for: $0) }
        pages = types.map { _ in ObservationPage() }
        itemLines = types.map { _ in 0 }
        markers = types.map { _ in nil }
        flushOrder = types.indices.sorted { types[$0].key < types[$1].key }
    }

    private func index(of key: String) -> Int? { types.firstIndex { $0.key == key } }

    /// Handles the outcome of line `number`.
    mutating func handle(_ outcome: LineOutcome, line number: Int) async throws {
        switch outcome {
        case .observed(let t, let observation):
            try await itemLine(of: t, line: number)
            pages[t].observations.append(observation)
            if pages[t].observations.count >= pageSize { try await flush(t) }
        case .rejected(let t, let rejection):
            try await itemLine(of: t, line: number)
            pages[t].rejected.append(ItemObserved.Rejection(message: "line \(number): \(rejection.message)"))
        case .unencodable(let t, let message):
            throw SinkRefused(error: SourceError(.internalError, policyType: types[t].key,
                                                 "line \(number): the observation cannot be written: \(message)"), record: true)
        case .unwanted(let key):
            await unwanted(key, line: number)
        case .invalid(let error):
            await invalid(SourceError(.exportLineInvalid, policyType: error.policyType, "line \(number): \(error.message)"),
                          of: error.policyType)
        case .line(.item(let key, let item)):
            // An item parsed without its type's encoder: encoded here, the same way.
            guard let t = index(of: key) else { return await unwanted(key, line: number) }
            try await handle(LineOutcome(type: t) { try encoders[t].encode(item) }, line: number)
        case .line(.failed(let key, let code, let message)):
            guard index(of: key) != nil else { return }
            let e = SourceError(.exportTypeFailed, policyType: key, "line \(number): exporter failed (\(code)): \(message)")
            await sink.record(e)
            incomplete[key] = incomplete[key] ?? e
        case .line(.enumerated(let key, let count)):
            guard let t = index(of: key) else { return }
            if let first = markers[t] {
                await exportIncomplete(t, "line \(number): a second enumerated marker for \(key) (the first is on line \(first.line))")
            } else {
                markers[t] = (number, count)
            }
        }
    }

    /// Counts an item line of type `t`; one after its type's marker makes the type incomplete.
    private mutating func itemLine(of t: Int, line number: Int) async throws {
        itemLines[t] += 1
        if let marker = markers[t] {
            await exportIncomplete(t, "line \(number): an item of \(types[t].key) after its enumerated marker (line \(marker.line))")
        }
    }

    /// Makes type `t` incomplete with `export_incomplete`, recorded once (unless the type is
    /// already incomplete for another reason).
    private mutating func exportIncomplete(_ t: Int, _ message: String) async {
        let key = types[t].key
        guard incomplete[key] == nil else { return }
        let e = SourceError(.exportIncomplete, policyType: key, message)
        await sink.record(e)
        incomplete[key] = e
    }

    /// Checks each type's coverage at the end of the file: a type without a marker, or whose
    /// marker's count differs from its item lines, is incomplete. Returns the types without a
    /// marker.
    mutating func checkCoverage() async -> [String] {
        var unmarked: [String] = []
        for t in types.indices {
            let key = types[t].key
            guard let marker = markers[t] else {
                unmarked.append(key)
                if allIncomplete == nil {
                    await exportIncomplete(t, "no enumerated marker for \(key): the export does not show that \(key) was read completely")
                }
                continue
            }
            if marker.count != itemLines[t], allIncomplete == nil {
                await exportIncomplete(t, "line \(marker.line): the enumerated marker for \(key) counts \(marker.count) item lines, the export has \(itemLines[t])")
            }
        }
        return unmarked
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
            if !pages[t].isEmpty {
                let page = pages[t]
                pages[t] = ObservationPage()
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
