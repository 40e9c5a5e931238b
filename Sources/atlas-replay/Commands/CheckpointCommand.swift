import ArgumentParser
import CommandSupport
import Foundation
import ReplayKit

/// `atlas-replay checkpoint`: a signed statement of the store's current head.
struct CheckpointCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Write a signed checkpoint of the log's head.",
        discussion: """
            Reads the store read-only and writes one JSON object: the store's id and format, the head's \
            position, chain hash and recorded_at, the time now, the public key and an Ed25519 signature \
            over the RFC 8785 bytes of the object without "signature". Keep it outside the store's host; \
            `atlas-replay verify --checkpoint` then proves the log still holds that head.
            """)

    @OptionGroup var store: StoreOptions
    @Option(help: "The private key file from `atlas-replay keygen` (mode 0600).")
    var key: String
    @Option(help: "Write the checkpoint to this new file (refused if it exists) instead of stdout.")
    var out: String?

    func run() async throws {
        let signingKey: Curve25519SigningKey
        do { signingKey = try Checkpoint.readPrivateKey(at: key) } catch { throw CommandFailure.usage(error.message) }
        let checkpoint = try await replayCommand {
            let s = try store.open(readOnly: true)
            return try Checkpoint.ofHead(of: s, key: signingKey)
        }
        let text = String(decoding: checkpoint.fileBytes, as: UTF8.self)
        if let out {
            do { try Checkpoint.writeExclusive(out, text, mode: 0o644) } catch { throw CommandFailure.usage(error.message) }
        } else {
            print(text, terminator: "")
        }
    }
}
