import CanonicalJSON
package import Inventory

/// Where a sync reads policies from: Microsoft Graph or an offline export.
///
/// A source reports what it reads to a ``SourceSink``: items page by page, each type's end
/// (complete or not), and errors. It must report every type it was given exactly once through
/// ``SourceSink/finishType(_:complete:error:)``.
package protocol InventorySource: Sendable {
    /// `graph` or `offline`, recorded in the run's start event.
    var kind: String { get }
    /// Secrets the source knows (client secret, tokens), scrubbed from every stored error.
    var secrets: [String] { get }
    /// Reads `types` of `tenant`, reporting to `sink`.
    func enumerate(tenant: String, types: [PolicyType], into sink: any SourceSink) async
}

/// Receives what a source reads. Calls may come from several tasks at once.
///
/// A source encodes the items it reads itself, with the sink's encoder and on its own threads
/// (the offline source while it parses lines, the Graph source when a page arrives), and hands
/// the sink each page as an ``ObservationPage``: every `item_observed` event of a run is made
/// by ``ObservationEncoder``, whatever the source.
package protocol SourceSink: Sendable {
    /// The encoder of the run's observations of `type`.
    nonisolated func observationEncoder(for type: PolicyType) -> ObservationEncoder
    /// A page of `type`: the observations `observationEncoder(for:)` made and the items it
    /// refused, in the order they were read.
    func receive(_ page: ObservationPage, of type: PolicyType) async throws
    /// Records an error; `type` is nil when it cannot be attributed to one type.
    func record(_ error: SourceError) async
    /// Ends `type`: complete only when every item was read and no error hit the type.
    func finishType(_ type: PolicyType, complete: Bool, error: SourceError?) async
    /// Progress for display: a page fetched, a retry, a wait.
    func progress(_ event: SourceProgress) async
}

extension SourceSink {
    package func progress(_ event: SourceProgress) async {}
}

/// An error a source met, with a code from the closed taxonomy and redactable context.
package struct SourceError: Error, Sendable, Hashable, CustomStringConvertible {
    package var code: InventoryErrorCode
    /// The policy type it concerns, if any.
    package var policyType: String?
    /// Human context; redacted before it is stored.
    package var message: String

    package init(_ code: InventoryErrorCode, policyType: String? = nil, _ message: String) {
        self.code = code
        self.policyType = policyType
        self.message = message
    }

    package var description: String { "\(code.rawValue)\(policyType.map { " [\($0)]" } ?? ""): \(message)" }
}

/// A progress notice from a source.
package enum SourceProgress: Sendable, Hashable {
    case page(type: String, items: Int)
    case retry(type: String, status: Int, waitSeconds: Double, attempt: Int)
}
