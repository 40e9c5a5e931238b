import ArgumentParser
import CommandSupport
import Foundation
import ReplayKit

/// `atlas-replay keygen`: a new Ed25519 key for signing checkpoints.
struct KeygenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create an Ed25519 key for signing checkpoints.",
        discussion: """
            FILE receives the private key as 64 lowercase hex characters (its 32-byte raw form) and a \
            newline, created with mode 0600; FILE.pub receives the public key the same way. Neither may \
            exist already. The public key is printed; the private key never is.
            """)

    @Option(help: "The private key file to create (FILE.pub receives the public key).")
    var out: String

    func validate() throws {
        guard !out.isEmpty else { throw ValidationError("--out must name a file") }
    }

    func run() async throws {
        do { print(try Checkpoint.writeNewKey(to: out)) } catch {
            throw CommandFailure.usage(error.message)
        }
    }
}
