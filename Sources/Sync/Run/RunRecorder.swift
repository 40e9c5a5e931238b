import CanonicalJSON
import EventLog
import Inventory

/// The sink of one run: turns pages into `inventory.item_observed` events, appends them with
/// a bounded number of appends in flight, and tracks counts, errors and each type's outcome.
actor RunRecorder: SourceSink {
    let store: any EventStore
    let tenant: String
    let runID: String
    let selectionHash: String
    let correlationID: String
    let types: [PolicyType]
    let redactor: Redactor
    let options: SyncRunner.Options
    let leaseCheck: @Sendable (any KeyValueWriter) throws -> Void
    let progressHandler: (@Sendable (String, SourceProgress) -> Void)?

    /// Appends under way, oldest first, with their sizes; each returns how many of its items
    /// were new or changed.
    private var inFlight: [(append: Task<Int, any Error>, items: Int)] = []
    private var itemsInFlight = 0
    private var observed = 0
    private var upserted = 0
    private var errorCount = 0
    private var errorCodes: [InventoryErrorCode] = []
    private var errorContext: [String] = []
    private var counts: [String: Int] = [:]
    private var typeErrors: [String: InventoryErrorCode] = [:]
    private var outcomes: [String: SyncRun.TypeOutcome] = [:]
    private var fatal: SourceError?
    private var retryCount = 0
    private var throttledWait: Double = 0

    static let maxContextEntries = 20
    /// The tally of the items projection that counts upserted rows.
    static let upsertedTally = ItemsProjection.changedTally.description

    init(store: any EventStore, tenant: String, runID: String, selectionHash: String, correlationID: String, types: [PolicyType],
         redactor: Redactor, options: SyncRunner.Options, leaseCheck: @escaping @Sendable (any KeyValueWriter) throws -> Void,
         progress: (@Sendable (String, SourceProgress) -> Void)?) {
        self.store = store
        self.tenant = tenant
        self.runID = runID
        self.selectionHash = selectionHash
        self.correlationID = correlationID
        self.types = types
        self.redactor = redactor
        self.options = options
        self.leaseCheck = leaseCheck
        self.progressHandler = progress
    }

    /// A page's items in appends of at most `batchSize`.
    private func batches(of count: Int) -> [Range<Int>] {
        let size = max(1, options.batchSize)
        return stride(from: 0, to: count, by: size).map { $0..<min(count, $0 + size) }
    }

    nonisolated func observationEncoder(for type: PolicyType) -> ObservationEncoder {
        ObservationEncoder(type: type, runID: runID, selectionHash: selectionHash, tenant: tenant, correlationID: correlationID)
    }

    func receive(_ page: ObservationPage, of type: PolicyType) async throws {
        if let fatal { throw fatal }
        for rejection in page.rejected { reject(rejection, of: type) }
        let observations = page.observations
        for batch in batches(of: observations.count) {
            // A page of one batch is appended as it is, without a copy.
            try await append(encoded: batch == observations.indices ? observations : Array(observations[batch]), of: type)
        }
    }

    private func reject(_ rejection: ItemObserved.Rejection, of type: PolicyType) {
        note(SourceError(.graphItemInvalid, policyType: type.key, rejection.message))
        typeErrors[type.key] = typeErrors[type.key] ?? .graphItemInvalid
    }

    /// Appends observations of `type` (counting the rows they make new or change).
    private func append(encoded observations: [ObservationEncoder.Encoded], of type: PolicyType) async throws {
        guard !observations.isEmpty else { return }
        observed += observations.count
        counts[type.key, default: 0] += observations.count
        let store = self.store
        let check = leaseCheck
        // Appending runs off the source's path, while it reads the next page. The items
        // projection counts the rows the page made new or changed, as the log's writer applies
        // it (exact even when another run of the tenant writes the same items at the same time).
        inFlight.append((Task {
            let result = try await store.append(encoded: observations.map(\.event), precondition: check)
            return result.tallies[Self.upsertedTally] ?? 0
        }, observations.count))
        itemsInFlight += observations.count
        // The budget is counted in items, whatever the pages' sizes: when the log's writer is
        // the bottleneck, what is queued for it is what its next group commit takes.
        while itemsInFlight > options.itemsInFlight, inFlight.count > 1 { try await finishOldestAppend() }
    }

    private func finishOldestAppend() async throws {
        let (append, items) = inFlight.removeFirst()
        itemsInFlight -= items
        upserted += try await append.value
    }

    private func drainAppends() async throws {
        while !inFlight.isEmpty { try await finishOldestAppend() }
    }

    func record(_ error: SourceError) async {
        note(error)
        if let t = error.policyType { typeErrors[t] = typeErrors[t] ?? error.code }
        if error.code == .cancelled { fatal = error }
    }

    private func note(_ error: SourceError) {
        errorCount += 1
        if !errorCodes.contains(error.code) { errorCodes.append(error.code) }
        if errorContext.count < Self.maxContextEntries { errorContext.append(redactor.redact(error.description)) }
    }

    func finishType(_ type: PolicyType, complete: Bool, error: SourceError?) async {
        do { try await drainAppends() } catch { await failAppends(error) }
        if let error, error.policyType == nil || error.policyType == type.key, typeErrors[type.key] == nil {
            typeErrors[type.key] = error.code
        }
        let isComplete = complete && typeErrors[type.key] == nil && fatal == nil
        outcomes[type.key] = .init(complete: isComplete, count: counts[type.key, default: 0], errorCode: isComplete ? nil : (typeErrors[type.key] ?? error?.code))
        let e = PolicyTypeEnumerated(runID: runID, selectionHash: selectionHash, policyType: type.key, complete: isComplete,
                                     count: counts[type.key, default: 0], errorCode: outcomes[type.key]?.errorCode)
        do {
            try await store.append([EventEnvelope(type: InventoryEventType.policyTypeEnumerated, tenant: tenant,
                                                  correlationID: correlationID, data: e.data)], precondition: leaseCheck)
        } catch { await failAppends(error) }
    }

    private func failAppends(_ error: any Error) async {
        let code: InventoryErrorCode
        if let e = error as? EventLogError, e.code == .storageFull { code = .storeFull } else if error is SyncRunner.LeaseLost { code = .abandoned } else { code = .internalError }
        let e = SourceError(code, "appending events failed: \(error)")
        note(e)
        fatal = fatal ?? e
    }

    func progress(_ event: SourceProgress) async {
        if case let .retry(_, status, wait, _) = event {
            retryCount += 1
            if status == 429 || status == 503 { throttledWait += wait }
        }
        progressHandler?(tenant, event)
    }

    /// Retries the source reported, and the seconds it waited on throttling (429/503) before them.
    func retryTotals() -> (retries: Int, throttledSeconds: Double) { (retryCount, throttledWait) }

    func typeOutcomes() -> [String: SyncRun.TypeOutcome] { outcomes }

    /// The run's finish payload; call after the source returned.
    func finish() async -> SyncRunFinished {
        do { try await drainAppends() } catch { await failAppends(error) }
        // A type the source never finished is incomplete.
        for t in types where outcomes[t.key] == nil {
            outcomes[t.key] = .init(complete: false, count: counts[t.key, default: 0], errorCode: typeErrors[t.key] ?? fatal?.code ?? .internalError)
        }
        let completeTypes = outcomes.values.filter(\.complete).count
        let status: SyncRunStatus
        if completeTypes == 0 {
            status = .failed
        } else if completeTypes == types.count && errorCount == 0 {
            status = .success
        } else {
            status = .partial
        }
        return SyncRunFinished(runID: runID, selectionHash: selectionHash, status: status, hadErrors: errorCount > 0,
                               observed: observed, upserted: upserted, errors: errorCount, errorCodes: errorCodes,
                               errorContext: errorContext)
    }
}
