import CommandSupport
import EventLog
import Foundation

/// Follows the log and prints new envelopes as NDJSON (shared by `export --follow` and `tail`).
///
/// Lines are `{"position":N,"chain":"<hex>","envelope":<stored canonical JSON>}`. Start: after a
/// named consumer's checkpoint when it has one; otherwise at `from` (inclusive) when given
/// (`export --follow` gives 1 by default); otherwise with the next event committed (`tail`). For a named consumer, each line is acknowledged
/// once written to stdout (lines are written in batches while catching up). SIGINT and SIGTERM
/// end the follow; the checkpoint is written and the process exits 0. A closed stdout (EPIPE)
/// ends it the same way.
///
/// A named consumer runs in one process at a time and keeps one filter: a second follower of
/// the same consumer, or one with another `--tenant`/`--type`, is a usage error (exit 2) naming
/// the holder or both filters; `reset` starts the consumer again with the new filter.
enum FollowExport {
    static func run(store: StoreOptions, tenant: String?, typePrefix: String?, from: UInt64?, consumer: String?,
                    reset: Bool = false) async throws {
        if let consumer, !ConsumerName.isValid(consumer) {
            throw CommandFailure.usage("consumer name \"\(consumer)\" must be 1-64 characters of a-z, 0-9, '.', '_', '-'")
        }
        if let tenant, tenant.isEmpty { throw CommandFailure.usage("--tenant must not be empty") }
        let log = try store.open(readOnly: consumer == nil)
        let head = try log.head().position
        let startAfter: UInt64
        if let from {
            guard from <= head + 1 else {
                throw CommandFailure.usage("--from \(from) is beyond the next position \(head + 1)")
            }
            startAfter = from == 0 ? 0 : from - 1
        } else {
            startAfter = head
        }
        let filter = SubscriptionFilter(tenant: tenant, typePrefix: typePrefix)
        let subscription: EventSubscription
        if let consumer {
            do {
                subscription = try log.subscribe(consumer: consumer, filter: filter, startingAfter: startAfter, reset: reset, options: .init())
            } catch let e as EventLogError where e.code == .consumerHeld {
                throw CommandFailure.usage("\(e.message); stop it first (a dead holder's lease is taken over at once on its host, or when it expires)")
            } catch let e as EventLogError where e.code == .consumerFilterMismatch {
                throw CommandFailure.usage("\(e.message); give the consumer's filter, or --reset to start it again with the new one")
            }
        } else {
            subscription = try log.subscribe(after: startAfter, filter: filter, options: .init())
        }

        // Ctrl-C / SIGTERM: end the sequence; the loop below then writes the checkpoint.
        signal(SIGPIPE, SIG_IGN)
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { Task { try? await subscription.close() } }
            source.resume()
            sources.append(source)
        }
        defer { for s in sources { s.cancel() } }

        var out: [UInt8] = []
        out.reserveCapacity(1 << 16)
        var pendingAck: UInt64 = 0
        do {
            for try await e in subscription {
                out += #"{"position":"#.utf8
                out += String(e.position).utf8
                out += #","chain":""#.utf8
                out += e.chainHash.hex.utf8
                out += #"","envelope":"#.utf8
                out += e.json
                out += "}\n".utf8
                pendingAck = e.position
                if out.count >= 1 << 16 || !subscription.hasBufferedEvents {
                    guard writeAll(out) else { break }
                    out.removeAll(keepingCapacity: true)
                    try subscription.ack(pendingAck)
                }
            }
            if !out.isEmpty, writeAll(out) { try subscription.ack(pendingAck) }
        } catch {
            try? await subscription.close()
            throw error
        }
        try await subscription.close()
    }

    /// Writes `bytes` to stdout; `false` when stdout is gone.
    private static func writeAll(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { b in
            var off = 0
            while off < b.count {
                let n = write(STDOUT_FILENO, b.baseAddress! + off, b.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                off += n
            }
            return true
        }
    }
}
